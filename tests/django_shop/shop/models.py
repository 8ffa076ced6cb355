"""A customer, and the replies the inbound view records for one."""

from django.db import models


class Customer(models.Model):
    email = models.CharField(max_length=200)


class Reply(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    subject = models.CharField(max_length=200)
