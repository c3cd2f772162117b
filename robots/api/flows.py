"""Running flows for the API: the ordinary Runner (one browser slot of the shared pool, robots.pool), with the
caller's portal session, and the run's outcome turned into an answer or an `ApiError`.

A read waits for its run; `start` runs a flow on a worker thread and returns its run id at once (202).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robots.api.errors import ApiError
from robots.api.settings import ApiSettings, flow_file, portal_flows
from robots.api.tokens import Principal, TokenStore
from robots.errors import FlowError, InputError, VarsError
from robots.flow.model import Flow
from robots.records.model import RunRecord

log = logging.getLogger("robots.api")

#: how a portal runs its flows for an API session, by portal name: (flow, the session's credentials, the library
#: folder: None for the installed packs' flows) -> the flow to run. A pack's API routes register theirs when they
#: are mounted (robots.packs).
SESSION_FLOWS: dict[str, Callable[[Flow, dict[str, str], Path | None], Flow]] = {}

_TIMEOUT_CLASSES = {"StepTimeout", "RunTimedOut", "TimeoutException"}
_FORBIDDEN = re.compile(r"You don't have permission[^<]*|Access denied", re.I)
_THROTTLED_WAIT = re.compile(r"ask(?:s|ed) for (\d+(?:\.\d+)?) s")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")


class FlowService:
    def __init__(self, settings: ApiSettings, store: Any, tokens: TokenStore, webhooks: Any = None) -> None:
        self.settings = settings
        self.webhooks = webhooks
        self.store = store
        self.tokens = tokens
        self._pool = ThreadPoolExecutor(settings.run_workers, thread_name_prefix="api-run")

    def close(self) -> None:
        # Runs still going are asked to stop; their runners record them canceled and end their browsers.
        for record in self.store.list(limit=None, status="running"):
            if record.trigger == "api":
                self.store.request_cancel(record.run_id, by="api shutdown")
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------------ flows
    def load(self, name: str, *, library: bool = False) -> Flow:
        """The flow `name` (a path under the flows folder, without .yaml; `library`: the endpoints' own flows
        folder); 404 if there is none."""
        from robots.flow.loader import load_flow

        if not _NAME.match(name) or ".." in name.split("/"):
            raise ApiError(404, f"no flow named {name!r}", type="flow_not_found")
        if not library:
            self.check_allowed(name)
        found = flow_file(self.settings.library_dir if library else self.settings.flows_dir, name)
        if found is None:
            raise ApiError(404, f"no flow named {name!r}", type="flow_not_found")
        path, folder = found
        try:
            return load_flow(path, roots=(folder,))  # its calls may reach anywhere in its own folder
        except FlowError as e:
            raise ApiError(422, f"the flow {name!r} is not valid", type="invalid_flow",
                           details=[str(i) for i in e.issues]) from None

    def _portal_url(self, principal: Principal, flow: Flow | None = None) -> str | None:
        if flow is not None and flow.portal is None:
            return None
        if principal.session_id:
            row = self.tokens.session(principal.session_id)
            if row is None or row.ended_at is not None:
                raise ApiError(401, "the portal session of this token has ended", type="session_ended")
            return row.portal_url
        if self.settings.portal_url:
            tenant = self._tenant_of(self.settings.portal_url)
            if principal.tenant is not None and principal.tenant != tenant:
                raise ApiError(403, f"this token belongs to tenant {principal.tenant!r}; the API's portal is tenant "
                               f"{tenant!r}", type="wrong_tenant")
            return self.settings.portal_url
        raise ApiError(503, "no portal is configured for this token: sign in with POST /sessions, or start the "
                       "API with ROBOTS_PORTAL_URL set", type="portal_not_configured")

    def _tenant_of(self, portal_url: str | None) -> str | None:
        from robots.api.tokens import served_portals

        return served_portals(self.settings).get((portal_url or "").rstrip("/"))

    def _own(self, run_id: str, principal: Principal, url: str | None) -> None:
        """Record whose run this is before it starts: its tenant (the portal's, as the operator named it) and owner;
        only they (or an admin token of that tenant) can read, cancel or see its evidence."""
        portal_tenant = None if principal.session_id or url is None else self._tenant_of(url)
        self.tokens.own_run(run_id, principal, portal_tenant or principal.tenant)

    def _secrets(self, flow: Flow, principal: Principal, portal: Any,
                 extra: dict[str, str] | None = None) -> dict[str, str]:
        from robots.auth.vault import Vault
        from robots.run.launch import flow_secrets

        if principal.session_id:
            creds = {**self.tokens.credentials(principal), **(extra or {})}
            out = {name: creds[name] for name in flow.all_secrets() if name in creds}
            missing = [n for n in flow.all_secrets() if n not in out and n not in flow.all_optional_secrets()]
            if missing:
                raise ApiError(403, f"the flow {flow.name!r} needs secret(s) {', '.join(missing)} that this "
                               "token's portal session does not hold", type="missing_secret")
            return out
        try:
            found = flow_secrets(flow, portal, vault=Vault.default(self.settings.home))
            return {**found, **{k: v for k, v in (extra or {}).items() if k in flow.all_secrets()}}
        except InputError as e:
            raise ApiError(403, str(e), type="missing_secret") from None

    def _check_paused(self) -> None:
        """`robots pause` (a portal maintenance window) holds the API's portal work too."""
        paused = self.store.paused()
        if paused:
            raise ApiError(503, f"robots are paused: {paused['reason']} (by {paused['by']} since {paused['since']})",
                           type="paused", headers={"Retry-After": "60"})

    def _check_vars(self, flow: Flow, vars: dict[str, Any]) -> None:
        """Every problem with the vars at once (robots.flow.vars, as every front end checks them): 422 naming each
        var, in the API's words (no server path, no CLI option)."""
        from robots.flow.vars import resolve_vars

        try:
            resolve_vars(flow, vars)
        except VarsError as e:
            details = [{"loc": ["body", "vars", p.var], "field": f"vars.{p.var}", "msg": p.message,
                        "type": "value_error"} for p in e.problems]
            raise ApiError(422, e.words(), type="invalid_input", details=details) from None

    # ------------------------------------------------------------------ policy: which flows, which files
    def check_allowed(self, name: str) -> None:
        """`POST /flows/{name}/runs` runs only the flows an operator listed (ROBOTS_API_FLOWS); any other name is
        refused the same way whether or not such a flow exists."""
        if not flow_allowed(name, self.settings.allowed_flows):
            raise ApiError(403, f"flow {name!r} is not allowed through the API; an operator lists the allowed flows "
                           "in ROBOTS_API_FLOWS", type="flow_not_allowed")

    def file_inputs(self, flow: Flow, vars: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """`vars` with each given file input (robots.api.flows.file_vars) turned into the path of the file it names:
        an upload id of this caller (POST /uploads), or a path under ROBOTS_API_FILES_DIR (symlinks resolved); any
        other value is 422, before a run or a browser starts. A flow's own default is the flow author's choice."""
        from robots.api.uploads import UPLOAD_ID, Uploads

        out = dict(vars)
        for name in file_vars(flow):
            if name not in vars:
                continue
            value = vars[name]
            if isinstance(value, str) and UPLOAD_ID.match(value):
                path = Uploads(self.settings.home).path(value, owner=principal.owner, tenant=principal.tenant)
                if path is None:
                    raise _file_error(name, f"var {name!r}: {value!r} is not an upload of this caller; upload the "
                                            "file with POST /uploads")
            else:
                path = _under(self.settings.files_dir, value)
                if path is None:
                    shown = repr(value) if len(repr(value)) <= 200 else repr(value)[:197] + "..."
                    raise _file_error(name, f"var {name!r}: the API takes files as upload ids from POST /uploads (or "
                                            f"paths under ROBOTS_API_FILES_DIR), not {shown}")
            out[name] = str(path)
        return out

    def _runner(self) -> Any:
        """A Runner of this API's store and home (its portal sessions: a pack's warm reads, POST /sessions)."""
        from robots.run import Runner

        return Runner(store=self.store, home=self.settings.home, trigger="api")

    def _execute(self, flow: Flow, vars: dict[str, Any], principal: Principal, run_id: str | None,
                 extra_secrets: dict[str, str] | None = None) -> RunRecord:
        from robots.run import new_run_id
        from robots.run.launch import prepare_run

        url = self._portal_url(principal, flow)
        if run_id is None:
            run_id = new_run_id()
            self._own(run_id, principal, url)
        near = flow.path.parent.resolve()
        if flow.name == "api_sign_in" and flow.portal:  # written to ROBOTS_HOME; its portal's flows are in the library
            near = portal_flows(self.settings.library_dir, flow.portal) or near
        if principal.session_id and SESSION_FLOWS:  # e.g. an SSO session's runs sign in through SSO
            credentials = self.tokens.credentials(principal)
            for adjust in SESSION_FLOWS.values():
                flow = adjust(flow, credentials, self.settings.library_dir)
        with prepare_run(flow, trigger="api", home=self.settings.home, store=self.store, portal_url=url, near=near,
                         secrets=lambda portal: self._secrets(flow, principal, portal, extra_secrets)) as launch:
            return launch.run(vars=vars, run_id=run_id)

    # ------------------------------------------------------------------ reads: wait for the run
    def run(self, flow: Flow, vars: dict[str, Any], principal: Principal,
            extra_secrets: dict[str, str] | None = None) -> RunRecord:
        """Run `flow` and wait; a run that did not pass raises the ApiError its failure maps to. `extra_secrets`:
        secrets of this request only (e.g. a payment method token), masked in the record like the others."""
        self._check_vars(flow, vars)
        vars = self.file_inputs(flow, vars, principal)
        self._portal_url(principal, flow)
        self._check_paused()
        record = self._execute(flow, vars, principal, None, extra_secrets)
        if record.status != "passed":
            raise failure(record)
        return record

    # ------------------------------------------------------------------ runs: 202 and a worker thread
    def start(self, flow: Flow, vars: dict[str, Any], principal: Principal,
              extra_secrets: dict[str, str] | None = None) -> RunRecord:
        """Start the run on a worker and return its first record at once (`extra_secrets`: this request's own, kept
        in memory only)."""
        from robots.run import new_run_id

        self._check_vars(flow, vars)
        vars = self.file_inputs(flow, vars, principal)
        url = self._portal_url(principal, flow)
        self._check_paused()
        if principal.session_id:
            self.tokens.credentials(principal)
        run_id = new_run_id()
        self._own(run_id, principal, url)
        # Saved before the worker starts, so that GET /runs/{id} right after the 202 finds the run.
        first = RunRecord(run_id=run_id, flow_name=flow.name, flow_path=str(flow.path), flow_sha256=flow.sha256,
                          trigger="api", status="running", started_at=datetime.now(UTC), inputs=dict(vars))
        self.store.save(first)
        self._pool.submit(self._work, flow, vars, principal, run_id, extra_secrets)
        return first

    def _work(self, flow: Flow, vars: dict[str, Any], principal: Principal, run_id: str,
              extra_secrets: dict[str, str] | None = None) -> None:
        try:
            record = self._execute(flow, vars, principal, run_id, extra_secrets)
        except Exception as e:  # noqa: BLE001 - a worker must record why the run never started, not die silently
            log.error("run %s could not start: %s", run_id, e)
            record = self.store.get(run_id).model_copy(update={
                "status": "errored", "ended_at": datetime.now(UTC), "error_class": type(e).__name__,
                "error_message": str(getattr(e, "message", e)), "failure_kind": "technical"})
            self.store.save(record)
        if self.webhooks is not None:
            try:
                self.webhooks.run_finished(principal.owner, record)
            except Exception as e:  # noqa: BLE001 - the run is recorded; a lost event is logged, not raised
                log.error("run %s: could not queue its webhook events: %s", run_id, e)


def flow_allowed(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether `name` (e.g. acme/list_customers) matches one of the glob `patterns`, folder by folder: a `*` never
    matches a `/`, so `acme/*` allows no flow of a folder below acme."""
    parts = name.split("/")
    for pattern in patterns:
        wanted = pattern.strip().removesuffix(".yaml").split("/")
        if len(wanted) == len(parts) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)):
            return True
    return False


#: steps that read a local file, and the argument naming it
_FILE_ARGS = {"upload": "file", "checksum": "file", "read_csv": "file"}


def file_vars(flow: Flow) -> list[str]:
    """The vars of `flow` that name a file it reads: those declared `type: file`, and any a file-reading step's
    file argument uses directly (`checksum: {file: "{{ vars.where }}"}`), declared so or not."""
    from robots.flow.loader import _walk
    from robots.flow.templating import references

    names = [n for n, spec in flow.vars.items() if spec.type == "file"]
    for call in _walk((*flow.steps, *flow.finally_steps)):
        values = [getattr(call.args, _FILE_ARGS.get(call.kind, ""), None)]
        if call.kind == "call":  # what it gives a called flow's file vars
            sub = flow.subflows.get(str((flow.path.parent / call.args.flow).resolve()))  # type: ignore[attr-defined]
            given = call.args.vars  # type: ignore[attr-defined]
            values = [given.get(n) for n in file_vars(sub)] if sub is not None and isinstance(given, dict) else []
        for value in values:
            if not isinstance(value, str):
                continue
            try:
                refs = references(value)
            except Exception:  # noqa: BLE001, S112 - the loader already reported a template it cannot parse
                continue
            names += [attr for root, attr in refs if root == "vars" and attr in flow.vars]
    return list(dict.fromkeys(names))


def _under(folder: Path | None, value: Any) -> Path | None:
    """The file `value` names inside `folder` (relative to it, or absolute), symlinks resolved; None outside it,
    for anything but an existing regular file, or with no folder."""
    if folder is None or not isinstance(value, str) or not value:
        return None
    try:
        root = folder.resolve(strict=True)
        path = (root / value).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    return path if root in path.parents and path.is_file() else None


def _file_error(name: str, message: str) -> ApiError:
    return ApiError(422, message, type="invalid_input", details=[
        {"loc": ["body", "vars", name], "field": f"vars.{name}", "msg": message, "type": "value_error"}])


def failure(record: RunRecord) -> ApiError:
    """The ApiError for a run that did not pass: the portal's refusal (its own words), its permission page (403),
    its error page (502, saying so), a timeout (504) or any other portal or browser failure (502)."""
    message = record.error_message or f"the run ended {record.status}"
    details = {"run_id": record.run_id, "status": record.status, "error_class": record.error_class,
               "failure_kind": record.failure_kind}
    if record.error_location is not None:  # the flow file, line and step the error came from
        where = record.error_location
        details["where"] = (f"{where.file}:{where.line}" if where.line is not None else where.file) + (
            f": {where.step}" if where.step else "")
    forbidden = _forbidden_page(record)
    if forbidden:
        return ApiError(403, f"the portal refused: {forbidden}", type="portal_forbidden", details=details)
    if record.status == "canceled":
        return ApiError(502, message, type="run_canceled", details=details)
    failed_page = _portal_error_page(record) if record.failure_kind != "business" else None  # e.g. maintenance
    if failed_page:
        return ApiError(502, f"the portal failed: it answered {failed_page}", details={**details, "error": message})
    if record.error_class in _TIMEOUT_CLASSES or "timed out" in message.lower():
        return ApiError(504, message, details=details)
    if record.failure_kind == "business":
        return ApiError(422, message, type="portal_refused", details=details)
    if record.failure_kind == "input":  # what the run was given (a file, a var a template used) is wrong
        return ApiError(422, message, type="invalid_input", details=details)
    if record.failure_kind == "portal_throttled":  # the portal's own 429, passed on with the wait it asked for
        asked = _THROTTLED_WAIT.search(message)
        retry = max(1, math.ceil(float(asked.group(1)))) if asked else 1
        return ApiError(429, message, type="portal_throttled", details=details, headers={"Retry-After": str(retry)})
    return ApiError(502, message, details=details)


def _portal_error_page(record: RunRecord) -> str | None:
    """"HTTP 500 on URL" when the page the run failed on was the portal's error page (a 5xx document), read from
    the network log of its last evidence."""
    for ev in reversed(record.evidence):
        if not ev.network or not record.run_dir:
            continue
        try:
            entries = json.loads((Path(record.run_dir) / ev.network).read_text())
        except (OSError, ValueError):
            continue
        pages = [e for e in entries if isinstance(e, dict) and e.get("type") == "Document" and e.get("status")]
        if pages and isinstance(pages[-1]["status"], int) and pages[-1]["status"] >= 500:
            return f"HTTP {pages[-1]['status']} on {pages[-1].get('url')}"
        return None
    return None


def _forbidden_page(record: RunRecord) -> str | None:
    """The portal's own words when the run ended on its access-denied page (a role without the permission)."""
    for ev in record.evidence:
        if not ev.html or not record.run_dir:
            continue
        try:
            html = (Path(record.run_dir) / ev.html).read_text(errors="replace")
        except OSError:
            continue
        found = _FORBIDDEN.findall(html)
        if found:
            return max(found, key=len).strip()
    return None
