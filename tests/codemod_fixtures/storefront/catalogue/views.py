from django.http import HttpResponse

from .signals import product_viewed


class ProductView:
    viewed_signal = product_viewed

    def get(self, request, product):
        response = HttpResponse(product.name)
        self.viewed_signal.send(sender=self.__class__, product=product, request=request)
        return response
