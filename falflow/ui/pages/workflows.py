"""The workflows list: create (empty or from a template), rename, duplicate, delete."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from falflow.context import get_context
from falflow.graph.templates import TEMPLATES, get_template
from falflow.graph.document import WorkflowDocument
from falflow.kit.errors import FalflowError
from falflow.ui.layout import app_shell
from falflow.ui.session import SessionState
from falflow.workflows import service
from falflow.workflows.endpoints import get_catalog

EMPTY_TEMPLATE = "empty"
UNTITLED_NAME = "Untitled workflow"
FIRST_RUN_TEMPLATE_ID = "flux-upscale"


def default_workflow_name(template_id: str) -> str:
    """Return the name a new workflow gets when the user typed none: the template's title, if any."""
    template = get_template(template_id) if template_id != EMPTY_TEMPLATE else None
    return template.title if template is not None else UNTITLED_NAME


def _first_run_hint() -> str:
    template = get_template(FIRST_RUN_TEMPLATE_ID)
    suggestion = f'("{template.title}" is a good first run) ' if template is not None else ""
    return f"No workflows yet. Pick a template above {suggestion}and press Create."


class WorkflowsState(rx.State):
    workflows: list[dict[str, Any]] = []
    new_name: str = ""
    new_template: str = EMPTY_TEMPLATE
    rename_id: str = ""
    rename_value: str = ""

    @rx.var
    def template_options(self) -> list[list[str]]:
        return [[EMPTY_TEMPLATE, "Empty canvas"]] + [[t.id, t.title] for t in TEMPLATES]

    async def _user_id(self) -> Any:
        session_state = await self.get_state(SessionState)
        return session_state.user_id()

    @rx.event
    async def load(self) -> None:
        user_id = await self._user_id()
        with get_context().database.read_session() as session:
            rows = service.list_workflows(session, user_id)
        self.workflows = [
            {
                "id": str(w.id),
                "name": w.name,
                "version": w.version,
                "nodes": w.node_count,
                "updated": w.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
            }
            for w in rows
        ]

    @rx.event
    def set_new_name(self, value: str) -> None:
        self.new_name = value

    @rx.event
    def set_new_template(self, value: str) -> None:
        self.new_template = value

    @rx.event
    def set_rename_value(self, value: str) -> None:
        self.rename_value = value

    @rx.event
    def start_rename(self, workflow_id: str, name: str) -> None:
        self.rename_id = workflow_id
        self.rename_value = name

    @rx.event
    def cancel_rename(self) -> None:
        self.rename_id = ""

    @rx.event
    async def import_json(self, form: dict[str, Any]) -> Any:
        """Create a workflow from pasted JSON: a falflow export or fal's saved workflow format."""
        user_id = await self._user_id()
        text = str(form.get("import_json", ""))
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            return rx.toast.error(f"The pasted text is not valid JSON ({exc.msg} at line {exc.lineno}); paste an export file's content.")
        try:
            name, document = service.read_import(body, get_catalog())
            with get_context().database.write_session() as session:
                workflow = service.create_workflow(session, user_id, name=name, document=document)
        except FalflowError as exc:
            return rx.toast.error(exc.detail)
        return rx.redirect(f"/workflows/{workflow.id}")

    @rx.event
    async def create(self) -> Any:
        user_id = await self._user_id()
        name = self.new_name.strip() or default_workflow_name(self.new_template)
        try:
            document = WorkflowDocument() if self.new_template == EMPTY_TEMPLATE else service.template_document(self.new_template)
            with get_context().database.write_session() as session:
                workflow = service.create_workflow(session, user_id, name=name, document=document)
        except FalflowError as exc:
            return rx.toast.error(exc.detail)
        self.new_name = ""
        return rx.redirect(f"/workflows/{workflow.id}")

    @rx.event
    async def rename(self) -> Any:
        user_id = await self._user_id()
        target = next((w for w in self.workflows if w["id"] == self.rename_id), None)
        if target is None:
            return None
        try:
            with get_context().database.write_session() as session:
                service.save_workflow(session, user_id, _uuid(self.rename_id), base_version=target["version"], name=self.rename_value, note="renamed")
        except FalflowError as exc:
            return rx.toast.error(exc.detail)
        self.rename_id = ""
        await self.load()
        return rx.toast.success("Renamed")

    @rx.event
    async def duplicate(self, workflow_id: str) -> Any:
        user_id = await self._user_id()
        try:
            with get_context().database.write_session() as session:
                service.duplicate_workflow(session, user_id, _uuid(workflow_id))
        except FalflowError as exc:
            return rx.toast.error(exc.detail)
        await self.load()
        return rx.toast.success("Duplicated")

    @rx.event
    async def delete(self, workflow_id: str) -> Any:
        user_id = await self._user_id()
        try:
            with get_context().database.write_session() as session:
                service.delete_workflow(session, user_id, _uuid(workflow_id))
        except FalflowError as exc:
            return rx.toast.error(exc.detail)
        await self.load()
        return rx.toast.success("Deleted")


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


def _import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("upload", size=16), "Import JSON", variant="soft", id="import-open")),
        rx.dialog.content(
            rx.dialog.title("Import a workflow"),
            rx.dialog.description(
                "Paste a falflow export (Export in the editor) or a workflow saved from fal's Workflows. "
                "Nodes of unknown endpoints are kept as placeholders with their parameters."
            ),
            rx.form(
                rx.vstack(
                    rx.text_area(name="import_json", placeholder='{"format": "falflow", "document": {...}}', rows="12",
                                 width="100%", id="import-json"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Import", type="submit", id="import-submit"),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=WorkflowsState.import_json,
                reset_on_submit=False,
            ),
            max_width="640px",
        ),
    )


def _create_bar() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.input(placeholder="New workflow name", value=WorkflowsState.new_name, on_change=WorkflowsState.set_new_name,
                     width="280px", id="new-workflow-name"),
            rx.select.root(
                rx.select.trigger(placeholder="Start from", id="new-workflow-template"),
                rx.select.content(
                    rx.foreach(WorkflowsState.template_options, lambda option: rx.select.item(option[1], value=option[0])),
                ),
                value=WorkflowsState.new_template,
                on_change=WorkflowsState.set_new_template,
            ),
            rx.button(rx.icon("plus", size=16), "Create", on_click=WorkflowsState.create, id="create-workflow"),
            rx.spacer(),
            _import_dialog(),
            spacing="3",
            align="center",
        ),
        width="100%",
    )


def _row(workflow: dict[str, Any]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.cond(
                WorkflowsState.rename_id == workflow["id"],
                rx.hstack(
                    rx.input(value=WorkflowsState.rename_value, on_change=WorkflowsState.set_rename_value, size="1", id="rename-input"),
                    rx.button("Save", size="1", on_click=WorkflowsState.rename, id="rename-save"),
                    rx.button("Cancel", size="1", variant="soft", color_scheme="gray", on_click=WorkflowsState.cancel_rename),
                ),
                rx.link(workflow["name"], href="/workflows/" + workflow["id"].to(str), weight="medium", class_name="workflow-name"),
            )
        ),
        rx.table.cell(workflow["nodes"]),
        rx.table.cell("v", workflow["version"]),
        rx.table.cell(workflow["updated"]),
        rx.table.cell(
            rx.hstack(
                rx.icon_button(rx.icon("pencil", size=14), size="1", variant="ghost",
                               on_click=WorkflowsState.start_rename(workflow["id"], workflow["name"]), title="Rename"),
                rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost",
                               on_click=WorkflowsState.duplicate(workflow["id"]), title="Duplicate"),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red", title="Delete")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Delete workflow?"),
                        rx.alert_dialog.description("It disappears from your list. Its runs and assets stay in the gallery."),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=WorkflowsState.delete(workflow["id"]))),
                            justify="end", spacing="3",
                        ),
                    ),
                ),
                spacing="2",
            )
        ),
    )


def workflows_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.heading("Workflows", size="6"),
            _create_bar(),
            rx.cond(
                WorkflowsState.workflows.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Name", "Nodes", "Version", "Updated", "")])),
                    rx.table.body(rx.foreach(WorkflowsState.workflows, _row)),
                    width="100%",
                    id="workflow-table",
                ),
                rx.callout(_first_run_hint(), icon="sparkles", width="100%", id="workflows-empty"),
            ),
            spacing="4",
            width="100%",
            max_width="1100px",
        )
    )


def register(app: rx.App) -> None:
    app.add_page(workflows_page, route="/workflows", title="Workflows · falflow",
                 on_load=[SessionState.require_login, WorkflowsState.load])
