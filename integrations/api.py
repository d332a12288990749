"""GET/POST /api/v1/webhooks/ and GET/PATCH/DELETE /api/v1/webhooks/<id>/: subscriptions, for Admin tokens.

The signing secret is in the body of the POST's answer only; no later read shows it."""

from rest_framework import generics, serializers

from accounts import audit
from accounts.permissions import ADMIN_ONLY, StaffApiMixin

from .models import CHAT_EVENTS, SUBSCRIBABLE, Format, Subscription
from .webhooks import UnsafeURL, check_url


class SubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1)

    class Meta:
        model = Subscription
        fields = ["id", "url", "format", "team", "description", "events", "is_active", "disabled_reason", "created_at"]
        read_only_fields = ["disabled_reason", "created_at"]

    def validate(self, data):
        fmt = data.get("format", getattr(self.instance, "format", Format.JSON))
        events = data.get("events", getattr(self.instance, "events", []))
        if fmt != Format.JSON and set(events) - set(CHAT_EVENTS):
            raise serializers.ValidationError({"events": [f"Slack and Teams take only {', '.join(CHAT_EVENTS)}."]})
        return data

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return url


class SubscriptionCreated(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Sign-check key. Returned once, here.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class WebhookList(StaffApiMixin, generics.ListCreateAPIView):
    allowed_roles = ADMIN_ONLY
    cursor_ordering = ("-created_at", "-pk")
    queryset = Subscription.objects.all()

    def get_serializer_class(self):
        return SubscriptionCreated if self.request.method == "POST" else SubscriptionSerializer

    def perform_create(self, serializer):
        subscription = serializer.save(created_by=self.request.user)
        audit.record(self.request.user, "webhook.create", subscription, after={"url": subscription.url})


class WebhookDetail(StaffApiMixin, generics.RetrieveUpdateDestroyAPIView):
    allowed_roles = ADMIN_ONLY
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer

    def perform_update(self, serializer):
        extra = {"consecutive_failures": 0, "disabled_reason": ""} if serializer.validated_data.get("is_active") else {}
        subscription = serializer.save(**extra)
        audit.record(self.request.user, "webhook.update", subscription, after=serializer.validated_data)

    def perform_destroy(self, instance):
        audit.record(self.request.user, "webhook.delete", instance, before={"url": instance.url})
        instance.delete()
