#!/usr/bin/env python3
"""Converge's AWS emulator: moto's multi-service server plus converge's extensions.

    python3 test/emulator/server.py --port 5000 [--host 127.0.0.1] [--parent-pid PID]

It serves everything `moto_server` serves (all services on one port, `/moto-api/...`), and:

* patches moto's CodeDeploy, ECS, ELBv2, EC2 and Application Auto Scaling at import time
  (codedeploy_ext.py, ecs_ext.py, elbv2_ext.py, ec2_ext.py, autoscaling_ext.py), and makes ELBv2, ECS, CloudWatch Logs and CodeDeploy refuse more
  than 50 tags per resource (tag_limits_ext.py);
* answers the Resource Groups Tagging API's GetResources as AWS does, CodeDeploy and Application
  Auto Scaling included (tagging_ext.py), and lists and describes task definitions by status as ECS
  does (task_definitions_ext.py);
* serves the control API under `/converge-emulator/` (see control.py);
* makes `POST /moto-api/reset` also reset the extensions' own state;
* prints `CONVERGE_EMULATOR_READY port=<port> endpoint=<url>` on stdout once it accepts
  connections (`--port 0` picks a free port; the line tells which);
* exits when `--parent-pid` is given and that process goes away, so an emulator never
  outlives the test run that started it.

Environment: CONVERGE_EMULATOR_DEPLOY_STEPS (see README.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port (0 picks a free one)")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser.parse_args(argv)


def _watch_parent(pid: int) -> None:
    # When the parent dies we are re-parented (getppid changes) even before the dead parent
    # is reaped; kill(pid, 0) covers a --parent-pid that is not our direct parent.
    direct_child = os.getppid() == pid

    def loop() -> None:
        while True:
            time.sleep(0.5)
            if direct_child and os.getppid() != pid:
                os._exit(0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass  # exists, owned by someone else

    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def build_app() -> object:
    """Import moto, install the extensions, and return the WSGI application."""
    try:
        import moto  # noqa: F401
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    except ImportError as exc:  # pragma: no cover - reported to the user by scripts/moto.ts
        sys.stderr.write(
            f"converge emulator: cannot import moto's server ({exc}). "
            'Install it with: pip install "moto[server]"\n'
        )
        raise SystemExit(3)

    import autoscaling_ext
    import codedeploy_ext
    import control
    import ec2_ext
    import ecs_ext
    import elbv2_ext
    import tag_limits_ext
    import tagging_ext
    import task_definitions_ext
    from moto.moto_api._internal.models import MotoAPIBackend

    autoscaling_ext.install()
    codedeploy_ext.install()
    ecs_ext.install()
    elbv2_ext.install()
    ec2_ext.install()
    tagging_ext.install()
    task_definitions_ext.install()
    tag_limits_ext.install()  # last: it wraps the handlers the others put in place

    # moto's reset rebuilds every backend; also put the extensions back to their start state.
    original_reset = MotoAPIBackend.reset

    def reset(self: MotoAPIBackend) -> None:
        with control.LOCK:
            original_reset(self)
            control.reset_extensions()

    MotoAPIBackend.reset = reset  # type: ignore[method-assign]

    def full_reset() -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    app = DomainDispatcherApplication(create_backend_app)
    return control.ControlMiddleware(app, full_reset)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv if argv is not None else sys.argv[1:])
    if args.parent_pid:
        _watch_parent(args.parent_pid)

    from werkzeug.serving import WSGIRequestHandler, make_server

    app = build_app()

    handler = WSGIRequestHandler
    if args.quiet:

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *a: object, **k: object) -> None:
                pass

        handler = QuietHandler

    server = make_server(args.host, args.port, app, threaded=True, request_handler=handler)
    port = server.server_port
    # moto builds some URLs (SQS queue URLs, ...) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(f"CONVERGE_EMULATOR_READY port={port} endpoint=http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
