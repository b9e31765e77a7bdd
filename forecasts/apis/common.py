"""What the list and filter endpoints share: query parsing, the date-range filter and page-number pagination."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class DateRangeFilterSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day, inclusive (YYYY-MM-DD).")
    end = serializers.DateField(required=False, help_text="Last day, inclusive (YYYY-MM-DD).")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"end": "The end date must not be before the start date."})
        return attrs


def query_filters(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The request's query parameters parsed by `serializer_class`; a 400 with a message per field when invalid."""
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


def paginated_response(view: APIView, request, *, rows, serializer_class: type[serializers.Serializer]) -> Response:
    """One page of `rows` (the view's `pagination_class`), presented by `serializer_class`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
