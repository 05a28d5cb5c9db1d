//! Cases from Prometheus's `model/relabel/relabel_test.go` (v2.55), plus
//! YAML defaults and validation.

use super::*;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn rc(yaml: &str) -> RelabelConfig {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn rcs(yaml: &str) -> Vec<RelabelConfig> {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn check(input: &[(&str, &str)], cfgs: &str, want: Option<&[(&str, &str)]>) {
    let got = relabel(&l(input), &rcs(cfgs));
    assert_eq!(got, want.map(l), "rules:\n{cfgs}");
}

#[test]
fn yaml_defaults() {
    let c = rc("target_label: x");
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.separator, ";");
    assert_eq!(c.regex.as_str(), "(.*)");
    assert_eq!(c.replacement, "$1");
    assert_eq!(c.modulus, 0);
    assert!(c.source_labels.is_empty());
    assert_eq!(
        rc("action: LabelDrop\nregex: foo").action,
        Action::LabelDrop
    );
    // An explicit null regex is the empty regex.
    let c = rc("regex: null\naction: keep\nsource_labels: [a]");
    assert!(c.regex.is_match(""));
    assert!(!c.regex.is_match("x"));
}

#[test]
fn yaml_rejects() {
    for (yaml, msg) in [
        ("action: foo", "unknown relabel action"),
        ("action: replace", "requires 'target_label' value"),
        ("action: lowercase", "requires 'target_label' value"),
        (
            "action: lowercase\ntarget_label: '${3}'",
            r#""${3}" is invalid 'target_label'"#,
        ),
        (
            "action: hashmod\ntarget_label: x",
            "requires non-zero modulus",
        ),
        (
            "target_label: '0${3}'",
            r#""0${3}" is invalid 'target_label'"#,
        ),
        (
            "target_label: '-${3}'",
            r#""-${3}" is invalid 'target_label' for replace action"#,
        ),
        ("target_label: 'a-b'", "is invalid 'target_label'"),
        (
            "action: labelmap\nreplacement: 'a-b'",
            "is invalid 'replacement' for labelmap action",
        ),
        (
            "action: uppercase\ntarget_label: x\nreplacement: y",
            "'replacement' can not be set",
        ),
        (
            "action: keepequal\ntarget_label: x\nregex: '(.*)'",
            "requires only 'source_labels'",
        ),
        (
            "action: dropequal\ntarget_label: x\nseparator: ','",
            "requires only 'source_labels'",
        ),
        (
            "action: labeldrop\nsource_labels: [a]",
            "requires only 'regex'",
        ),
        (
            "action: labelkeep\ntarget_label: a",
            "requires only 'regex'",
        ),
        ("regex: '('\ntarget_label: x", "invalid regex"),
        ("target_label: x\nbogus: 1", "unknown field"),
    ] {
        let err = serde_yaml::from_str::<RelabelConfig>(yaml)
            .unwrap_err()
            .to_string();
        assert!(err.contains(msg), "{yaml:?}: {err}");
    }
    // Valid: `${1}` target with a `$`.
    rc("source_labels: [a]\nregex: 'some-([^-]+)-([^,]+)'\nreplacement: '${1}'\ntarget_label: '${3}'");
}

#[test]
fn target_label_validity() {
    for (s, ok) in [
        ("-label", false),
        ("label", true),
        ("label${1}", true),
        ("${1}label", true),
        ("${1}", true),
        ("${", false),
        ("$", false),
        ("${}", false),
        ("foo${", false),
        ("$1", true),
        ("asd$2asd", true),
        ("-foo${1}bar-", false),
        ("_${1}_", true),
        ("foo${bar}foo", true),
    ] {
        assert_eq!(is_relabel_target(s), ok, "{s:?}");
    }
}

#[test]
fn replace() {
    let abc = [("a", "foo"), ("b", "bar"), ("c", "baz")];
    check(
        &abc,
        "- {source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch${1}-ch${1}'}",
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    );
    check(
        &abc,
        "- {source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b${1}${2}m'}
- {source_labels: [c, a], regex: '(b).*b(.*)ba(.*)', target_label: d, replacement: '$1$2$2$3'}",
        Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    );
    check(
        &[("a", "abc")],
        "- {source_labels: [a], regex: '.*(b).*', target_label: d}",
        Some(&[("a", "abc"), ("d", "b")]),
    );
    // No replacement without a match.
    check(
        &[("a", "boo")],
        "- {source_labels: [a], regex: f, target_label: b, replacement: bar}",
        Some(&[("a", "boo")]),
    );
    // An empty replacement deletes the target label.
    check(
        &[("a", "foo"), ("f", "baz")],
        "- {source_labels: [a], regex: '(f).*', target_label: '$1', replacement: '$2'}",
        Some(&[("a", "foo")]),
    );
    // Target label from a capture group.
    check(
        &[("a", "some-name-value")],
        "- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${2}', target_label: '${1}'}",
        Some(&[("a", "some-name-value"), ("name", "value")]),
    );
    // Replacement expanding to "" for a missing group: delete (nothing there).
    check(
        &[("a", "some-name-value")],
        "- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${3}', target_label: '${1}'}",
        Some(&[("a", "some-name-value")]),
    );
    // Target label expanding to an invalid name: no change.
    check(
        &[("a", "some-name-0")],
        "- {source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}
- {source_labels: [a], regex: 'some-([^-]+)(-[^,]+)', replacement: '${1}', target_label: '${3}'}",
        Some(&[("a", "some-name-0")]),
    );
    // A realistic service-discovery tag parser.
    check(
        &[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")],
        "- {source_labels: [__meta_sd_tags], regex: '(?:.+,|^)path:(/[^,]+).*', replacement: '${1}', target_label: __metrics_path__}
- {source_labels: [__meta_sd_tags], regex: '(?:.+,|^)job:([^,]+).*', replacement: '${1}', target_label: job}
- {source_labels: [__meta_sd_tags], regex: '(?:.+,|^)label:([^=]+)=([^,]+).*', replacement: '${2}', target_label: '${1}'}",
        Some(&[
            ("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"),
            ("__metrics_path__", "/secret"),
            ("job", "some-job"),
            ("foo", "bar"),
        ]),
    );
    // Missing source labels join as empty strings.
    check(
        &[("a", "x")],
        "- {source_labels: [a, nope, a], target_label: b}",
        Some(&[("a", "x"), ("b", "x;;x")]),
    );
}

#[test]
fn keep_and_drop() {
    check(
        &[("a", "foo")],
        "- {source_labels: [a], regex: '.*o.*', action: drop}
- {source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch$1-ch$1'}",
        None,
    );
    check(
        &[("a", "foo"), ("b", "bar")],
        "- {source_labels: [a], regex: '.*o.*', action: drop}",
        None,
    );
    check(
        &[("a", "foo")],
        "- {source_labels: [a], regex: no-match, action: drop}",
        Some(&[("a", "foo")]),
    );
    // Anchored: `f|o` matches neither all of "foo".
    check(
        &[("a", "foo")],
        "- {source_labels: [a], regex: 'f|o', action: drop}",
        Some(&[("a", "foo")]),
    );
    check(
        &[("a", "foo")],
        "- {source_labels: [a], regex: no-match, action: keep}",
        None,
    );
    check(
        &[("a", "foo")],
        "- {source_labels: [a], regex: 'f.*', action: keep}",
        Some(&[("a", "foo")]),
    );
    // Issue 12283: drop a label, recreate it, keep on it.
    check(
        &[
            ("__meta_kubernetes_pod_container_port_name", "foo"),
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
        ],
        "- {regex: '^__meta_kubernetes_pod_container_port_name$', action: labeldrop}
- {source_labels: [__meta_kubernetes_pod_annotation_XXX_metrics_port], regex: '(.+)', replacement: metrics, target_label: __meta_kubernetes_pod_container_port_name}
- {source_labels: [__meta_kubernetes_pod_container_port_name], regex: '^metrics$', action: keep}",
        Some(&[
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
            ("__meta_kubernetes_pod_container_port_name", "metrics"),
        ]),
    );
}

#[test]
fn keepequal_dropequal() {
    let ports = [
        ("__tmp_port", "1234"),
        ("__port1", "1234"),
        ("__port2", "5678"),
    ];
    check(
        &ports,
        "- {source_labels: [__tmp_port], action: keepequal, target_label: __port1}",
        Some(&ports),
    );
    check(
        &ports,
        "- {source_labels: [__tmp_port], action: dropequal, target_label: __port1}",
        None,
    );
    check(
        &ports,
        "- {source_labels: [__tmp_port], action: dropequal, target_label: __port2}",
        Some(&ports),
    );
    check(
        &ports,
        "- {source_labels: [__tmp_port], action: keepequal, target_label: __port2}",
        None,
    );
}

#[test]
fn hashmod() {
    check(
        &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        "- {source_labels: [c], target_label: d, action: hashmod, modulus: 1000}",
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
    );
    check(
        &[("a", "foo\nbar")],
        "- {source_labels: [a], target_label: b, action: hashmod, modulus: 1000}",
        Some(&[("a", "foo\nbar"), ("b", "734")]),
    );
}

#[test]
fn labelmap() {
    check(
        &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        "- {regex: '(b.*)', replacement: 'bar_${1}', action: labelmap}",
        Some(&[
            ("a", "foo"),
            ("b1", "bar"),
            ("b2", "baz"),
            ("bar_b1", "bar"),
            ("bar_b2", "baz"),
        ]),
    );
    check(
        &[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
        ],
        "- {regex: '__meta_(my.*)', replacement: '${1}', action: labelmap}",
        Some(&[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("my_bar", "aaa"),
            ("my_baz", "bbb"),
        ]),
    );
    // Range order: base labels first, then added ones in insertion order, so
    // the later source wins a name collision.
    check(
        &[("x_a", "1")],
        "- {source_labels: [x_a], target_label: y_a, replacement: '2'}
- {regex: '(?:x|y)_(.*)', replacement: 'z_$1', action: labelmap}",
        Some(&[("x_a", "1"), ("y_a", "2"), ("z_a", "2")]),
    );
}

#[test]
fn labeldrop_labelkeep() {
    let input = [("a", "foo"), ("b1", "bar"), ("b2", "baz")];
    check(
        &input,
        "- {regex: '(b.*)', action: labelkeep}",
        Some(&[("b1", "bar"), ("b2", "baz")]),
    );
    check(
        &input,
        "- {regex: '(b.*)', action: labeldrop}",
        Some(&[("a", "foo")]),
    );
    // Dropping every label leaves an empty (not dropped) set.
    check(&input, "- {regex: '.*', action: labeldrop}", Some(&[]));
}

#[test]
fn lowercase_uppercase() {
    check(
        &[("foo", "bAr123Foo")],
        "- {source_labels: [foo], action: uppercase, target_label: foo_uppercase}
- {source_labels: [foo], action: lowercase, target_label: foo_lowercase}",
        Some(&[
            ("foo", "bAr123Foo"),
            ("foo_lowercase", "bar123foo"),
            ("foo_uppercase", "BAR123FOO"),
        ]),
    );
    // Go's simple case mapping, not Rust's full one.
    assert_eq!(go_to_upper("straße"), "STRAßE");
    assert_eq!(go_to_lower("ΟΔΟΣ"), "οδοσ");
    assert_eq!(go_to_lower("İ"), "i");
    assert_eq!(go_to_upper("ᾳ"), "ᾼ");
    assert_eq!(go_to_upper("ᾈ"), "ᾈ");
    // Lowercasing an absent value deletes the target.
    check(
        &[("t", "X")],
        "- {source_labels: [nope], action: lowercase, target_label: t}",
        Some(&[]),
    );
}

#[test]
fn builder_semantics() {
    let mut b = LabelBuilder::new(&l(&[("a", "1"), ("b", "2")]));
    b.set("c", "3");
    b.del("a");
    assert_eq!(b.get("a"), "");
    b.set("a", "4");
    assert_eq!(b.get("a"), "4");
    b.set("b", "");
    assert_eq!(b.labels(), l(&[("a", "4"), ("c", "3")]));
}
