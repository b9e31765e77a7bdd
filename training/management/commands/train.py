"""`manage.py train`: evaluate every candidate under the rolling-origin protocol, apply the champion rule, print
the evidence."""

import logging
import time

from django.core.management.base import BaseCommand, CommandError

from goldsite.errors import GoldsiteError
from goldsite.presentation.formatting import column
from training.models import TrainingRun
from training.selectors import model_version_run_candidates
from training.services.runs import NETWORK_ARCHITECTURES, training_run_start


class Command(BaseCommand):
    help = (
        "Evaluate naive, drift, MLP, CNN, LSTM and their ensemble with rolling-origin CV, refit each on all data, "
        "walk it forward over the test window, register it in MLflow, and make the lowest-CV-error candidate the "
        "champion only if it beats naive (Diebold-Mariano p < CHAMPION_MAX_P); otherwise naive."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--trials", type=int, default=None, help="hyperopt trials per network (0: refit with the latest tune's)"
        )
        parser.add_argument(
            "--architectures",
            default=",".join(NETWORK_ARCHITECTURES),
            help="comma-separated subset of mlp,cnn,lstm (naive is always a candidate)",
        )
        parser.add_argument("--test-days", type=int, default=None, help="trading days in the test window")
        parser.add_argument("--selection-days", type=int, default=None, help="trading days cross-validated")
        parser.add_argument("--folds", type=int, default=None, help="CV folds of the selection period (>= 4)")
        parser.add_argument("--retrain-every", type=int, default=None, help="trading days between walk-forward refits")
        parser.add_argument("--no-promote", action="store_true", help="register the candidates, move no alias")
        parser.add_argument("--wait", type=int, default=6 * 60 * 60, help="seconds to wait for a worker")

    def handle(self, *args, **options):
        architectures = [a.strip() for a in options["architectures"].split(",") if a.strip()]
        trials = options["trials"]
        kind = TrainingRun.Kind.TRAIN if trials == 0 else TrainingRun.Kind.TUNE
        # Progress lines come from the run's own log records; the rest of the logging stays out of the table.
        progress_log = logging.getLogger("training.services.runs")
        progress_handler = _ProgressHandler(self.stdout)
        saved = progress_log.level, progress_log.propagate
        # training.ml's messages reach us through the run's progress lines; Celery's eager trace repeats them.
        quiet = [logging.getLogger(name) for name in ("training.ml", "celery.app.trace")]
        saved_levels = [log.level for log in quiet]
        for log in quiet:
            log.setLevel(logging.WARNING)
        progress_log.addHandler(progress_handler)
        progress_log.setLevel(logging.INFO)
        progress_log.propagate = False
        try:
            run = training_run_start(
                kind=kind,
                trials=trials,
                architectures=architectures,
                test_days=options["test_days"],
                selection_days=options["selection_days"],
                folds=options["folds"],
                retrain_every=options["retrain_every"],
                promote=not options["no_promote"],
                inline=True,
            )
            run = self._wait(run, timeout=options["wait"])
        except GoldsiteError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # an eager run re-raises what failed; the run row already records it
            failed = TrainingRun.objects.filter(status=TrainingRun.Status.FAILED).order_by("-id").first()
            raise CommandError(failed.error if failed else str(exc)) from exc
        finally:
            progress_log.removeHandler(progress_handler)
            progress_log.level, progress_log.propagate = saved
            for log, level in zip(quiet, saved_levels, strict=True):
                log.setLevel(level)
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"Training run #{run.pk} {run.status}: {run.error or run.message}")
        self.stdout.write(self.style.SUCCESS(f"Training run #{run.pk} succeeded. {run.message}"))
        candidates = model_version_run_candidates(run=run)
        self.stdout.write(render_candidate_table(candidates))
        self.stdout.write("")
        self.stdout.write(render_band_table(candidates))

    def _wait(self, run: TrainingRun, *, timeout: int) -> TrainingRun:
        """With a broker the run happens on a worker: follow its progress until it ends."""
        deadline = time.monotonic() + timeout
        last = None
        while run.is_active:
            if time.monotonic() > deadline:
                raise CommandError(f"Training run #{run.pk} still {run.status} after {timeout} s.")
            if (run.progress, run.message) != last:
                self.stdout.write(f"[{run.progress:3d}%] {run.message}")
                last = (run.progress, run.message)
            time.sleep(2)
            run.refresh_from_db()
        return run


class _ProgressHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__(level=logging.INFO)
        self.stream = stream

    def emit(self, record):
        self.stream.write(f"  {record.getMessage()}")


def render_candidate_table(versions) -> str:
    """The candidates side by side: pooled CV decides (with DM evidence against naive), walk-forward reports."""
    header = (
        f"{'candidate':<16} {'CV rMAE':>8} {'p':>7} {'test MAE':>9} {'test MAPE':>9} {'test rMAE':>9} "
        f"{'dir. acc':>8} {'cov 80%':>8} {'cov 95%':>8}  champion"
    )
    lines = [header, "-" * len(header)]
    for v in versions:
        cv, test = v.cv_metrics, v.test_metrics
        lines.append(
            f"{f'{v.architecture} v{v.version}':<16} {column(cv.get('rmae'), '8.3f')} {column(v.p_value, '7.3f')} "
            f"{column(test.get('mae'), '9.2f')} {column(test.get('mape'), '8.3f')}% {column(test.get('rmae'), '9.3f')} "
            f"{column(test.get('directional_accuracy'), '8.1%')} {column(test.get('coverage_80'), '8.1%')} "
            f"{column(test.get('coverage_95'), '8.1%')}  {'*' if v.is_champion else ''}"
        )
    return "\n".join(lines)


def _regime(test: dict, regime: str, key: str):
    return (test.get("coverage_by_regime") or {}).get(regime, {}).get(key)


def render_band_table(versions) -> str:
    """The bands on the walk-forward test: coverage per volatility tercile and the interval scores, naive's
    row beside every candidate's (W80 ÷ naive: below 1 is a better band than naive's)."""
    naive = next((v.test_metrics for v in versions if v.architecture == "naive"), {})
    header = (
        f"{'candidate':<16} {'σ model':<9} {'γ':>5} {'80% calm':>8} {'normal':>7} {'volat.':>7} {'95% all':>8} "
        f"{'W80':>7} {'W95':>7} {'pinball':>7} {'CRPS':>6} {'W80÷naive':>9}"
    )
    lines = [header, "-" * len(header)]
    for v in versions:
        test, bands = v.test_metrics, v.intervals or {}
        ratio = None
        if test.get("winkler_80") is not None and naive.get("winkler_80"):
            ratio = test["winkler_80"] / naive["winkler_80"]
        lines.append(
            f"{f'{v.architecture} v{v.version}':<16} {bands.get('volatility', '—'):<9} "
            f"{column(bands.get('gamma'), '5.3f')} {column(_regime(test, 'calm', 'coverage_80'), '8.1%')} "
            f"{column(_regime(test, 'normal', 'coverage_80'), '7.1%')} "
            f"{column(_regime(test, 'volatile', 'coverage_80'), '7.1%')} {column(test.get('coverage_95'), '8.1%')} "
            f"{column(test.get('winkler_80'), '7.1f')} {column(test.get('winkler_95'), '7.1f')} "
            f"{column(test.get('pinball'), '7.2f')} {column(test.get('crps'), '6.2f')} {column(ratio, '9.3f')}"
        )
    return "\n".join(lines)
