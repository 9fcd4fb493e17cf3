from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Category, Product, ProductImage

# Every model with an image to clean up.
MODELS_WITH_IMAGES = [ProductImage, Category]


def delete_image_files(sender, instance, **kwargs):
    instance.image.storage.delete(instance.image.name)


for model in MODELS_WITH_IMAGES:
    post_delete.connect(delete_image_files, sender=model)


def reindex(sender, instance, **kwargs):
    print("reindex", instance.pk)


for model in (Product, Category):
    post_save.connect(reindex, sender=model)


@receiver(pre_save, sender=Product)
def fill_slug(sender, instance, **kwargs):
    if not instance.slug:
        instance.slug = instance.name.lower()


@receiver(post_save, sender=Product)
def count_save(sender, **kwargs):
    kwargs["instance"].views += 1


@receiver(m2m_changed, sender=Product.categories.through)
def require_a_category(sender, action, pk_set, **kwargs):
    if action == "pre_add" and not pk_set:
        raise ValueError("a product needs a category")


@receiver(post_save)
def log_every_save(sender, **kwargs):
    print("saved", sender)
