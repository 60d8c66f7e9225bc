"""The console's addresses (mounted at /console/): sign-in, the portal list, and per portal the frame's pages."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import console_views
from .console import console_page
from .pages import PAGES

app_name = "console"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(
        template_name="console/login.html", redirect_authenticated_user=True, extra_context={"console": True}),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", console_views.portals, name="portals"),
    # The overview is the portal's own address: /console/<id>/.
    *(path(f"<int:portal_id>/{'' if name == 'home' else route}", console_page(view), name=name)
      for route, view, name in PAGES),
]
