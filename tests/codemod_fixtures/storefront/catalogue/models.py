from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)
    image = models.ImageField(blank=True)


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(blank=True)
    views = models.PositiveIntegerField(default=0)
    categories = models.ManyToManyField(Category)


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    image = models.ImageField()
