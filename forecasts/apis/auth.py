"""`POST /api/auth/token/`: a username and password exchanged for the user's API token."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts.services.api_tokens import api_token_get_or_create
from goldsite.throttling import AnonRateThrottle


class TokenObtainApi(APIView):
    """Exchange a username and password for the user's API token (created on first use)."""

    authentication_classes: list = []  # a stale token header must not turn this into a 401
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes reads (and marks) the plain Django request, so that one is passed on.
        user = authenticate(request=request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"non_field_errors": ["Unable to sign in with those credentials."]})
        token, _ = api_token_get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)
