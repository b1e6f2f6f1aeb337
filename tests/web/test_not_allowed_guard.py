"""A policy refusal (``NotAllowed``) that a view lets through answers the site's 404 page, never
a 500 nor a 403 (docs/access.md: what is refused is not shown): ``NotAllowedMiddleware`` does it
for every view, ``refusals_as_404`` for one. Fails if the middleware is removed or stops mapping."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from moncompte.core.errors import NotAllowed
from moncompte.web.errors import refusals_as_404


@login_not_required
def _refused(request):
    raise NotAllowed()


urlpatterns = [
    path("refus/", _refused),
    path("refus-vue/", refusals_as_404(_refused)),
    # The site's pages, which the error page links to.
    path("", include("config.urls")),
]
handler404 = "moncompte.web.errors.not_found"


@pytest.mark.parametrize("url", ["/refus/", "/refus-vue/"])
def test_a_refusal_reaching_no_handler_answers_the_404_page(client, settings, url):
    settings.ROOT_URLCONF = __name__
    response = client.get(url)
    assert response.status_code == 404
    assert "Page non trouvée" in response.content.decode()
    assert "private" in response["Cache-Control"]
