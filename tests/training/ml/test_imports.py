import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_light_modules_import_no_tensorflow_mlflow_or_hyperopt():
    """The web process may import these; TensorFlow, MLflow and hyperopt load only where they are used."""
    code = (
        "import sys\n"
        "import training.ml.features, training.ml.metrics, training.ml.conformal, training.ml.dataset\n"
        "import training.ml.forecaster, training.ml.pipeline, training.ml.selection\n"
        "import training.ml.tracking, training.ml.registry\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'mlflow', 'hyperopt', 'django') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""
