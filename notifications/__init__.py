"""How to tell people: one module per channel behind one small interface.

A channel takes a rendered ``Message`` and returns a receipt, or raises ``DeliveryError``
saying whether retrying can help.  Console and e-mail exist; Telegram comes next.
"""
