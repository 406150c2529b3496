"""The browser app: one blueprint per area, each a thin view over the engine's services.

Views hold no business logic: they ask the platform (as the signed-in user, so
the permission layer decides) and render Jinja2 templates; the browser scripts
talk to the same REST API programs use.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add every area's blueprint and the shell's template context to ``app``."""
    from web.ui import (
        apidocs,
        dashboard_editor,
        designer,
        flow_designer,
        imports,
        lists,
        public,
        records,
        report_builder,
        reports,
        rule_editor,
        shell,
        tasks,
    )
    from web.ui.context import install

    install(app)
    modules = (
        shell,
        apidocs,
        lists,
        imports,
        records,
        reports,
        tasks,
        public,
        designer,
        rule_editor,
        flow_designer,
        report_builder,
        dashboard_editor,
    )
    for module in modules:
        app.register_blueprint(module.blueprint)


__all__ = ["register"]
