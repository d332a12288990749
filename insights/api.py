"""GET /api/v1/nps/: the dashboard's numbers, from the same functions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ALL_STAFF, StaffApiMixin

from . import selectors
from .filters import BadFilter, filters_from


class NpsOut(serializers.Serializer):
    stream = serializers.ChoiceField(choices=["relationship", "transactional"])
    from_ = serializers.DateField()
    to = serializers.DateField()
    filters = serializers.DictField(child=serializers.CharField())
    nps = serializers.FloatField(allow_null=True, help_text="-100 to 100; null without answers")
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    margin_of_error = serializers.FloatField(allow_null=True, help_text="± at 95 %, in NPS points")
    response_rate = serializers.FloatField(allow_null=True, help_text="answered ÷ delivered, 0 to 1")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


PARAMETERS = [
    OpenApiParameter("stream", str, enum=["relationship", "transactional"], description="Default: relationship."),
    OpenApiParameter("period", str, enum=["30d", "90d", "quarter", "year"], description="Default: 90d."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="A custom period's first day (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="A custom period's last day."),
    *[
        OpenApiParameter(name, str, description=f"Only answers with this {label.lower()}.")
        for name, label in (
            ("segment", "Segment"),
            ("plan_tier", "Plan tier"),
            ("region", "Region"),
            ("industry", "Industry"),
            ("product_line", "Product line"),
        )
    ],  # fmt: skip
]


class NpsView(StaffApiMixin, APIView):
    """The dashboard's figures for one stream and period, scoped like the dashboard."""

    allowed_roles = ALL_STAFF

    @extend_schema(parameters=PARAMETERS, responses=NpsOut)
    def get(self, request):
        try:
            filters, _ = filters_from(request.query_params)
        except BadFilter as exc:
            name, _, message = str(exc).partition(": ")
            return Response({name: [message]}, status=status.HTTP_400_BAD_REQUEST)
        score = selectors.summary(request.user, filters).score  # the dashboard's own function
        delivery = selectors.delivery(request.user, filters)
        return Response({
            "stream": filters.stream,
            "from": filters.start.date().isoformat(),
            "to": filters.end.date().isoformat(),
            "filters": filters.dims,
            "nps": score.nps,
            "responses": score.responses,
            "promoters": score.promoters,
            "passives": score.passives,
            "detractors": score.detractors,
            "margin_of_error": score.margin,
            "response_rate": delivery["rate"],
        })  # fmt: skip
