from app.kit.errors import Conflict, NotFound, Unprocessable


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    title = "Webhook endpoint not found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    title = "Webhook delivery not found"


class WebhookUrlNotAllowed(Unprocessable):
    code = "webhook_url_not_allowed"
    title = "Webhook URL not allowed"


class WebhookDeliveryNotFailed(Conflict):
    code = "webhook_delivery_not_failed"
    title = "Webhook delivery not failed"
