"""Publish instruments as a static web page that runs the sing experience on a phone (``sounds-kit publish``)."""

from sounds_kit.publish.site import SiteReport, build_site

__all__ = ["SiteReport", "build_site"]
