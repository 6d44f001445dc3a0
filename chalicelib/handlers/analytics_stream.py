"""The analytics roll-up consumers: one per source table's DynamoDB stream, and the daily jobs.

Thin: hand the batch's records to ``analytics.consumer.apply_batch``.  A batch
that raises is retried by Lambda (stream batches are retried until they
succeed, in order, so nothing is skipped); the store's transaction tokens keep
a retried batch from counting twice.  Batches of up to 500 records gathered for
at most 30 s keep the roll-ups well inside a minute behind the events.

``stream_arn`` names the table; the deployment template points each event
source at the table's real stream (``infra.postprocess``) and the local
stream pump matches handlers to tables by that name.
"""

from __future__ import annotations

from datetime import date, timedelta

from chalice import Blueprint, Cron

from chalicelib.logs import logger
from chalicelib.models.screens import Screen
from chalicelib.models.stats import DailyStat, china_day
from chalicelib.models.subscriptions import Subscription
from chalicelib.observability import event_handler
from chalicelib.services.analytics import attributes, closing, consumer, wechat_view
from chalicelib.settings import get_settings

bp = Blueprint(__name__)
BATCH_SIZE = 500
BATCH_WINDOW_SECONDS = 30


def stream_arn(table: str) -> str:
    """A placeholder ARN naming the table; replaced by the real stream ARN when packaged."""
    settings = get_settings()
    return f"arn:aws-cn:dynamodb:{settings.region}:000000000000:table/{table}/stream/latest"


def _apply(event) -> None:
    records = [record.to_dict() for record in event]
    result = consumer.apply_batch(records)
    logger.info(
        "roll-ups applied",
        records=result.records,
        items=result.items_updated,
        requests=result.requests,
        skipped=result.skipped,
    )


@bp.on_dynamodb_record(
    stream_arn=stream_arn(DailyStat.Meta.table_name),
    batch_size=BATCH_SIZE,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=BATCH_WINDOW_SECONDS,
    name="analytics_stats_stream",
)
@event_handler
def analytics_stats_stream(event) -> None:
    _apply(event)


@bp.on_dynamodb_record(
    stream_arn=stream_arn(Subscription.Meta.table_name),
    batch_size=BATCH_SIZE,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=BATCH_WINDOW_SECONDS,
    name="analytics_subscriptions_stream",
)
@event_handler
def analytics_subscriptions_stream(event) -> None:
    _apply(event)


@bp.on_dynamodb_record(
    stream_arn=stream_arn(Screen.Meta.table_name),
    batch_size=BATCH_SIZE,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=BATCH_WINDOW_SECONDS,
    name="analytics_screens_stream",
)
@event_handler
def analytics_screens_stream(event) -> None:
    _apply(event)


def yesterday() -> date:
    return date.fromisoformat(china_day()) - timedelta(days=1)


@bp.schedule(Cron(5, 16, "*", "*", "?", "*"), name="analytics_close_day")  # 00:05 China time
@event_handler
def analytics_close_day(event) -> None:
    """Close the China day that just ended: its closing levels on every scope and screen."""
    day = yesterday()
    logger.info("analytics day closed", day=day.isoformat(), extra=closing.close_day(day))
    logger.info("fan attributes refreshed", scopes=attributes.refresh())


@bp.schedule(Cron(30, 17, "*", "*", "?", "*"), name="analytics_wechat_datacube")  # 01:30 China time
@event_handler
def analytics_wechat_datacube(event) -> None:
    """Pull WeChat's user figures of the finished days for every account (WeChat has them by then)."""
    logger.info("datacube pulled", extra=wechat_view.pull_all())
