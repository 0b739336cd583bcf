//! Malformed network configs: each case is the Figure 3 config with one fault, and must give a clear
//! `Error::Config` naming the file and the YAML path — never a panic.

use std::path::Path;

use eiann::{Error, NetworkSpec};

const FILE: &str = "bad.yaml";

fn good() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))
    .expect("config file")
}

/// Replace the first occurrence of `from` after the first occurrence of `anchor`.
fn edit(text: &str, anchor: &str, from: &str, to: &str) -> String {
    let a = text
        .find(anchor)
        .unwrap_or_else(|| panic!("anchor {anchor:?} not in config"));
    let i = a + text[a..]
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not after {anchor:?}"));
    format!("{}{}{}", &text[..i], to, &text[i + from.len()..])
}

fn expect_error(yaml: &str, path: &str, message_part: &str) {
    match NetworkSpec::from_yaml_str(yaml, "bad", FILE) {
        Ok(_) => panic!("expected an error at {path}"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                matches!(e, Error::Config { .. }),
                "not a config error: {text}"
            );
            assert!(
                text.starts_with(FILE),
                "message does not name the file: {text}"
            );
            assert!(text.contains(path), "message lacks path {path:?}: {text}");
            assert!(
                text.contains(message_part),
                "message lacks {message_part:?}: {text}"
            );
            println!("{text}");
        }
    }
}

const H1E_INPUT: &str = "projection_config:\n  H1:\n    E:\n      Input:\n        E:\n";

#[test]
fn unknown_rule_names_the_projection_key() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "learning_rule: BP_like_2L",
        "learning_rule: BP_like_9",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.learning_rule",
        "unknown rule \"BP_like_9\"",
    );
}

#[test]
fn unknown_population_key() {
    let y = edit(
        &good(),
        "  H1:\n    E:\n      size: 500",
        "size: 500",
        "size: 500\n      sise: 3",
    );
    expect_error(&y, "layer_config.H1.E.sise", "unknown key \"sise\"");
}

#[test]
fn unknown_top_level_key() {
    expect_error(
        &format!("{}extra_stuff: 1\n", good()),
        "extra_stuff",
        "unknown key",
    );
}

#[test]
fn projection_from_missing_population() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "      Input:\n        E:\n",
        "      Input:\n        Q:\n",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.Q",
        "presynaptic population Input.Q is not in layer_config",
    );
}

#[test]
fn projection_to_missing_layer() {
    let y = good().replacen("projection_config:\n  H1:", "projection_config:\n  H9:", 1);
    expect_error(
        &y,
        "projection_config.H9.E",
        "postsynaptic population H9.E is not in layer_config",
    );
}

#[test]
fn negative_size() {
    let y = edit(&good(), "  H2:\n    E:\n", "size: 500", "size: -500");
    expect_error(&y, "layer_config.H2.E.size", "must not be negative");
}

#[test]
fn zero_size() {
    let y = edit(
        &good(),
        "  H2:\n    E:\n",
        "    SomaI:\n      size: 50",
        "    SomaI:\n      size: 0",
    );
    expect_error(&y, "layer_config.H2.SomaI.size", "at least 1");
}

#[test]
fn size_of_wrong_type() {
    let y = edit(
        &good(),
        "  H2:\n    E:\n",
        "size: 500",
        "size: five hundred",
    );
    expect_error(
        &y,
        "layer_config.H2.E.size",
        "expected a whole number, got a string",
    );
}

#[test]
fn unknown_activation() {
    let y = edit(
        &good(),
        "  H1:\n    E:\n",
        "activation: relu",
        "activation: swish",
    );
    expect_error(
        &y,
        "layer_config.H1.E.activation",
        "unknown activation \"swish\"",
    );
}

#[test]
fn unknown_constraint() {
    let y = good().replacen(
        "weight_constraint: no_autapses",
        "weight_constraint: no_synapses",
        1,
    );
    expect_error(
        &y,
        "projection_config.H1.SomaI.H1.SomaI.weight_constraint",
        "unknown constraint \"no_synapses\"",
    );
}

#[test]
fn unknown_weight_init() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "weight_init: half_kaiming",
        "weight_init: xavier",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.weight_init",
        "unsupported weight_init \"xavier\"",
    );
}

#[test]
fn weight_bounds_of_wrong_type() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "weight_bounds: !!python/tuple\n          - 0\n          - null",
        "weight_bounds: positive",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.weight_bounds",
        "expected a list or tuple, got a string",
    );
}

#[test]
fn weight_bounds_with_three_values() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "          - 0\n          - null",
        "          - 0\n          - null\n          - 1",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.weight_bounds",
        "(lower, upper) pair",
    );
}

#[test]
fn missing_learning_rule_means_backprop() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "          learning_rule: BP_like_2L\n",
        "",
    );
    let y = edit(&y, H1E_INPUT, "          learning_rule_kwargs:\n            learning_rate: 0.012455713212515401\n            max_pop_fraction: 1.0\n            stochastic: false\n            relu_gate: true\n", "");
    // The Figure 3 config has `backward_steps: 0`, so EIANN's default rule has nothing to differentiate.
    expect_error(
        &y,
        "training_kwargs.backward_steps",
        "is 0, but Backprop (H1E_InputE)",
    );
    let y = y.replacen("backward_steps: 0", "backward_steps: 2", 1);
    let spec =
        NetworkSpec::from_yaml_str(&y, "bad", FILE).expect("EIANN's default rule is Backprop");
    let k = spec.projection_index("H1E_InputE").expect("projection");
    assert_eq!(spec.projections[k].rule.class_name(), "Backprop");
}

fn config(stem: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/network_config/mnist")
            .join(format!("{stem}.yaml")),
    )
    .expect("config file")
}

const VAN_BP: &str = "20231129_EIANN_2_hidden_mnist_van_bp_relu_SGD_config_G_complete_optimized";
const CONFIG_5M: &str = "20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized";

#[test]
fn every_shipped_config_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/network_config/mnist");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("config folder") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "yaml") {
            NetworkSpec::from_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n >= 7, "expected the seven configs of the paper, found {n}");
}

#[test]
fn unknown_rule_lists_the_supported_ones() {
    let y = config(VAN_BP).replacen("learning_rule: Backprop", "learning_rule: Backprop_9", 1);
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.learning_rule",
        "supported: BP_like_2L, BP_like_2E, Backprop, Backprop_DendriticLoss",
    );
}

#[test]
fn backprop_needs_a_recorded_step() {
    let y = config(VAN_BP).replacen("backward_steps: 1", "backward_steps: 0", 1);
    expect_error(&y, "training_kwargs.backward_steps", "is 0, but Backprop");
}

#[test]
fn backprop_needs_relu_or_linear() {
    let y = config(VAN_BP).replacen("activation: relu", "activation: tanh", 1);
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.learning_rule",
        "needs relu or linear",
    );
}

#[test]
fn dendritic_loss_source_must_exist() {
    let y = config(CONFIG_5M).replacen("source: H1.E", "source: H9.E", 1);
    expect_error(
        &y,
        "learning_rule_kwargs.source",
        "source population \"H9.E\"",
    );
}

#[test]
fn unsupported_optimizer_is_named() {
    let y = config(VAN_BP).replacen("optimizer: SGD", "optimizer: Adam", 1);
    expect_error(
        &y,
        "training_kwargs.optimizer",
        "unsupported optimizer \"Adam\"",
    );
}

#[test]
fn scaled_kaiming_takes_one_argument() {
    let y = config(VAN_BP).replacen(
        "                    - 2.957309048541877\n",
        "                    - 2.957309048541877\n                    - 1.0\n",
        1,
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.weight_init_args",
        "scaled_kaiming takes one argument",
    );
}

#[test]
fn clone_source_that_does_not_exist() {
    let y = good().replacen("source: H2.E.H1.E", "source: H2.E.H1.X", 1);
    expect_error(
        &y,
        "projection_config.H1.E.H2.E.weight_constraint_kwargs.source",
        "source projection \"H2.E.H1.X\" does not exist",
    );
}

#[test]
fn unknown_direction_phase_and_compartment() {
    let g = good();
    expect_error(
        &edit(&g, H1E_INPUT, "direction: F", "direction: sideways"),
        "projection_config.H1.E.Input.E.direction",
        "unknown direction",
    );
    expect_error(
        &edit(&g, H1E_INPUT, "update_phase: F", "update_phase: Z"),
        "projection_config.H1.E.Input.E.update_phase",
        "unknown update_phase",
    );
    let y = g.replacen("compartment: dend", "compartment: axon", 1);
    expect_error(
        &y,
        "projection_config.H1.E.H1.DendI.compartment",
        "unknown compartment \"axon\"",
    );
}

#[test]
fn unknown_rule_kwarg() {
    let y = edit(
        &good(),
        H1E_INPUT,
        "relu_gate: true",
        "relu_gate: true\n            momentum: 0.9",
    );
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.learning_rule_kwargs.momentum",
        "unknown key \"momentum\"",
    );
}

#[test]
fn wrong_boolean_type() {
    let y = edit(&good(), H1E_INPUT, "relu_gate: true", "relu_gate: 7");
    expect_error(
        &y,
        "projection_config.H1.E.Input.E.learning_rule_kwargs.relu_gate",
        "expected true or false",
    );
}

#[test]
fn stochastic_selection_is_refused() {
    let y = edit(&good(), H1E_INPUT, "stochastic: false", "stochastic: true");
    expect_error(&y, "learning_rule_kwargs.stochastic", "not supported");
}

#[test]
fn bad_training_kwargs() {
    let g = good();
    expect_error(
        &g.replace("forward_steps: 15", "forward_steps: -15"),
        "training_kwargs.forward_steps",
        "must not be negative",
    );
    expect_error(
        &g.replace("  tau: 3\n", "  tau: 0\n"),
        "training_kwargs.tau",
        "must be positive",
    );
    expect_error(
        &g.replace("  tau: 3\n", "  tau: 3\n  optimizer: Adam\n"),
        "training_kwargs.optimizer",
        "unsupported optimizer \"Adam\"",
    );
    expect_error(
        &g.replace("  tau: 3\n", "  tua: 3\n"),
        "training_kwargs.tua",
        "unknown key",
    );
}

#[test]
fn missing_sections_and_wrong_shapes() {
    expect_error(
        "projection_config: {}\n",
        "layer_config",
        "missing required key",
    );
    expect_error(
        "layer_config: [1, 2]\nprojection_config: {}\n",
        "layer_config",
        "expected a mapping, got a list",
    );
    expect_error("", "(top level)", "expected a mapping");
    expect_error("layer_config:\n  Input: {E: {size: 4}}\n  Out: {E: {size: 2}}\nprojection_config: {Out: {E: {Input: {E: {learning_rule: null, weight_bounds: [1, 0]}}}}}\n", "weight_bounds", "lower bound 1 exceeds upper bound 0");
}

#[test]
fn invalid_yaml_syntax() {
    expect_error(
        "layer_config:\n  Input: {E: {size: 4}\n",
        "line",
        "not valid YAML",
    );
}

#[test]
fn duplicate_keys_are_refused() {
    expect_error(
        "layer_config: {}\nlayer_config: {}\n",
        "line",
        "not valid YAML",
    );
}

#[test]
fn missing_file_names_the_path() {
    let e = NetworkSpec::from_file("/nonexistent/dir/net.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/dir/net.yaml"), "{e}");
}

/// No input — any prefix of the config, any single-character corruption — makes the loader panic.
#[test]
fn truncated_and_corrupted_configs_never_panic() {
    let g = good();
    let bytes = g.as_bytes();
    let mut errors = 0;
    for cut in (0..bytes.len()).step_by(97) {
        let prefix = String::from_utf8_lossy(&bytes[..cut]);
        if NetworkSpec::from_yaml_str(&prefix, "cut", FILE).is_err() {
            errors += 1;
        }
    }
    for (k, pos) in (0..bytes.len()).step_by(131).enumerate() {
        let mut b = bytes.to_vec();
        b[pos] = b"-:[]{}!&*0x "[k % 12];
        let _ = NetworkSpec::from_yaml_str(&String::from_utf8_lossy(&b), "corrupt", FILE);
    }
    assert!(errors > 0);
}

#[test]
fn the_shipped_config_loads() {
    let spec = NetworkSpec::from_yaml_str(&good(), "fig3", FILE).expect("good config");
    assert_eq!(spec.projections.len(), 23);
}
