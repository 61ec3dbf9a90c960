"""The `emprops` command: one Typer app with a sub-app per domain."""

from __future__ import annotations

import typer

from emprops.cli import (
    chain,
    collection,
    collection_package,
    collection_run,
    components,
    demo,
    doctor,
    indexer,
    ipfs,
    jobs,
    queue,
    queue_demo,
    serve,
    users,
    worker,
)

_ = (collection_run, collection_package)  # register `collection run|package|upload`
app = typer.Typer(no_args_is_help=True, help="EmProps: AI-generated NFT collections, self-hosted.")
app.add_typer(jobs.app, name="jobs")
app.add_typer(queue.app, name="queue")
queue.app.command("demo")(queue_demo.run_queue_demo)
app.add_typer(collection.app, name="collection")
app.add_typer(ipfs.app, name="ipfs")
app.command("worker")(worker.run_worker)
app.command("demo")(demo.run_demo)
app.command("serve")(serve.run_serve)
app.command("doctor")(doctor.run_doctor)
app.add_typer(users.app, name="users")
app.add_typer(indexer.app, name="indexer")
app.add_typer(chain.app, name="chain")
app.add_typer(components.app, name="components")


def main() -> None:
    app()
