from django.utils.cache import patch_vary_headers

PUBLIC_CACHEABLE_ATTR = "moncompte_public_cacheable"


def public_cacheable(view):
    """Marks a view whose answer holds nothing personal and may be kept by shared caches."""
    setattr(view, PUBLIC_CACHEABLE_ATTR, True)
    return view


class PersonalResponseHeadersMiddleware:
    """Every answer is private and never stored, unless its view is marked public_cacheable.

    Defence against the Steam (2015) and Klarna (2021) leaks: a cache in front of the service
    must never hand one person's page to another. Forced here, in one place, rather than
    trusted to each view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "moncompte_public_cacheable", False) and not request.user.is_authenticated:
            return response
        response["Cache-Control"] = "private, no-store, max-age=0"
        response["Pragma"] = "no-cache"
        response["Expires"] = "0"
        patch_vary_headers(response, ("Cookie",))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, PUBLIC_CACHEABLE_ATTR, False):
            request.moncompte_public_cacheable = True
        return None
