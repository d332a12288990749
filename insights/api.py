"""GET /api/v1/nps/: the dashboard's numbers, from the same functions."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ALL_STAFF, StaffApiMixin

from . import selectors
from .filters import BadFilter, filters_from


class NpsView(StaffApiMixin, APIView):
    allowed_roles = ALL_STAFF

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
