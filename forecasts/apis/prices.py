"""`GET /api/prices/`: the stored daily bars, filtered by symbol and date range, a page at a time."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from forecasts.apis.common import DateRangeFilterSerializer, paginated_response, query_filters
from forecasts.models import PriceBar
from forecasts.selectors.prices import price_bars_list


class PriceListApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(DateRangeFilterSerializer):
        symbol = serializers.ChoiceField(choices=settings.MARKET_SYMBOLS, required=False)

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = PriceBar
            fields = ["symbol", "date", "open", "high", "low", "close", "volume", "source"]

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        rows = price_bars_list(**query_filters(request, self.FilterSerializer))
        return paginated_response(self, request, rows=rows, serializer_class=self.OutputSerializer)
