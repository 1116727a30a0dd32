"""The reference profile: the book's evidence for Parts III and V, trained once and stored.

``make reference`` trains the runs of :func:`reference_runs` (about 1.5 hours on two CPU
cores) into ``results/reference``, one folder per run with its learning curves, float16
weights and a manifest of its provenance and checksums. The chapters read them with
:func:`load_history` and :func:`load_weights` and compute every analysis live from the
weights; :func:`verify_results` (run by the test suite) names every run that is missing,
damaged or stale.

Every public name of the subpackage is importable from it directly; its modules are imported
on first use.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["execute", "feature_evidence", "layer_evidence", "layer_measurements", "runs",
                "setup", "store", "tables"],
    submod_attrs={
        "execute": ["replay_first_epoch", "run_reference", "train_reference_run"],
        "setup": ["build_reference_model", "state_sha256", "training_kwargs"],
        "runs": ["GAMMA", "RunSpec", "reference_runs", "run_spec"],
        "feature_evidence": ["EXACT_TOLERANCE", "FLOAT16_TOLERANCE", "float16_shift",
                             "probe_batch", "stored_ss_rates", "training_change"],
        "layer_evidence": ["dimension_dynamics", "evidence_summary", "layer_contrasts"],
        "layer_measurements": ["TREATMENTS", "layer_dimensions", "matched_density_threshold",
                               "null_range_chance"],
        "tables": ["accuracy_table", "constraint_gains", "reference_curves"],
        "store": ["RESULTS_ENV", "TRAINING_SOURCES", "load_history", "load_manifest",
                  "load_weights", "provenance", "resolve_target", "results_dir", "source_sha256",
                  "verify_results"],
    },
)
