//! `childgen explain`: why each path matched or not.

use crate::snapshot;
use crate::support::{TestEnv, root};

#[test]
fn explains_every_rule_of_the_monorepo() {
    let config = root().join("fixtures/monorepo/childgen.yml").display().to_string();
    let out = TestEnv::new().run(&[
        "explain",
        "--config",
        &config,
        "pipelines/churn/train/modelserving.yaml",
        "pipelines/churn/train/datacube.yaml",
        "pipelines/churn/README.md",
        "data/alice/datasets/transactions/v3/part-0000.csv",
        "pipelines/bad name/s/modelserving.yaml",
    ]);
    snapshot!("explain_monorepo", out);
}

#[test]
fn explains_stop_patterns_from_the_command_line() {
    let out = TestEnv::new().run(&[
        "explain",
        "--stop",
        "pipeline_name:pipelines,stage_name::pipelines",
        "pipelines/pipeline_1/stage_1/modelserving.yaml",
        "pipelines/pipeline_1/README.md",
        "teams/ml/pipelines/p/s/x.py",
        "src/main.rs",
    ]);
    snapshot!("explain_stop", out);
}
