"""The API fixtures (real database, real Redis) for the operator routes' tests."""

from tests.api import conftest as api_fixtures

api = api_fixtures.api
api_settings = api_fixtures.api_settings
