"""The app's URLs plus the baseline of bench_answers.py: a minimal view that writes one row."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as app_urlpatterns


@login_not_required
@csrf_exempt
@require_POST
def minimal(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_hit (at) VALUES (now())")
    return HttpResponse(status=204)


urlpatterns = [path("bench/minimal/", minimal), *app_urlpatterns]
