//! Resource and scope tests: `job`/`instance`, `target_info`, promoted
//! resource attributes, scope labels (as in Prometheus's
//! `otlptranslator/prometheusremotewrite`, `helper.go` and `metrics_to_prw.go`).

use super::tests::*;
use super::*;

#[test]
fn job_and_instance_from_service_attributes() {
    let cases = [
        (vec![kv("service.name", "api")], vec![("job", "api")]),
        (
            vec![kv("service.name", "api"), kv("service.namespace", "shop")],
            vec![("job", "shop/api")],
        ),
        (vec![kv("service.namespace", "shop")], vec![]),
        (
            vec![kv("service.instance.id", "pod-1")],
            vec![("instance", "pod-1")],
        ),
        (
            vec![
                kv("service.instance.id", "pod-1"),
                kv("service.name", "api"),
                kv("service.namespace", "shop"),
            ],
            vec![("job", "shop/api"), ("instance", "pod-1")],
        ),
    ];
    for (resource, want) in cases {
        // A data point's own job/instance attributes are overridden.
        let attrs = vec![kv("job", "dp-job"), kv("instance", "dp-instance")];
        let req = request(
            resource.clone(),
            vec![gauge("g", "", vec![point(attrs, T0, 1.0)])],
        );
        let mut expected: Vec<(&str, &str)> = vec![
            ("__name__", "g"),
            ("job", "dp-job"),
            ("instance", "dp-instance"),
        ];
        expected.extend(want);
        assert_eq!(
            only(&convert(&req, &OtlpOptions::default())).labels,
            l(&expected),
            "{resource:?}"
        );
    }
}

#[test]
fn target_info_carries_non_identifying_attributes() {
    let resource = vec![
        kv("service.name", "api"),
        kv("service.namespace", "shop"),
        kv("service.instance.id", "pod-1"),
        kv("host.name", "node-a"),
        kv("telemetry.sdk.language", "go"),
    ];
    let points = vec![
        point(vec![], T0 + 2_000_000, 1.0),
        point(vec![kv("x", "1")], T0 + 60_000_000_000, 2.0),
    ];
    let req = request(resource, vec![gauge("g", "", points)]);
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.target_info, 1);
    let info = l(&[
        ("__name__", "target_info"),
        ("job", "shop/api"),
        ("instance", "pod-1"),
        ("host_name", "node-a"),
        ("telemetry_sdk_language", "go"),
    ]);
    // Samples from the earliest point every lookback/2 (150 s) and at the latest.
    assert_eq!(
        samples_of(&c, &info),
        [
            Sample::new(T0_MS + 2, 1.0),
            Sample::new(T0_MS + 60_000, 1.0)
        ]
    );
    // Data series carry only job/instance, not the other resource attributes.
    assert_eq!(
        samples_of(
            &c,
            &l(&[
                ("__name__", "g"),
                ("job", "shop/api"),
                ("instance", "pod-1")
            ])
        ),
        [Sample::new(T0_MS + 2, 1.0)]
    );
}

#[test]
fn target_info_not_emitted_without_extra_attributes_or_identity() {
    for resource in [
        vec![kv("service.name", "api"), kv("service.instance.id", "i")],
        vec![kv("host.name", "node-a")], // no job or instance
        vec![],
    ] {
        let req = request(
            resource.clone(),
            vec![gauge("g", "", vec![point(vec![], T0, 1.0)])],
        );
        let c = convert(&req, &OtlpOptions::default());
        assert_eq!(c.target_info, 0, "{resource:?}");
        assert_eq!(c.series.len(), 1);
    }
    // No points at all: no target_info either.
    let req = request(
        vec![kv("service.name", "api"), kv("host.name", "h")],
        vec![gauge("g", "", vec![])],
    );
    assert_eq!(convert(&req, &OtlpOptions::default()), Converted::default());
}

#[test]
fn target_info_spans_the_batch_and_dedups_across_resources() {
    let resource = vec![kv("service.name", "api"), kv("host.name", "h")];
    let minute = 60_000_000_000;
    let points = vec![
        point(vec![], T0, 1.0),
        point(vec![kv("a", "b")], T0 + 6 * minute, 1.0),
    ];
    let mut req = request(resource.clone(), vec![gauge("g", "", points)]);
    // The same resource again, at a time already covered.
    req.resource_metrics.push(
        request(resource, vec![gauge("h", "", vec![point(vec![], T0, 1.0)])])
            .resource_metrics
            .remove(0),
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.target_info, 1);
    let info = l(&[
        ("__name__", "target_info"),
        ("job", "api"),
        ("host_name", "h"),
    ]);
    let ts: Vec<i64> = samples_of(&c, &info).iter().map(|s| s.t).collect();
    assert_eq!(
        ts,
        [T0_MS, T0_MS + 150_000, T0_MS + 300_000, T0_MS + 360_000]
    );
    // A shorter lookback means denser samples.
    let opts = OtlpOptions {
        lookback_delta_ms: 240_000,
        ..Default::default()
    };
    let ts: Vec<i64> = samples_of(&convert(&req, &opts), &info)
        .iter()
        .map(|s| s.t)
        .collect();
    assert_eq!(
        ts,
        [T0_MS, T0_MS + 120_000, T0_MS + 240_000, T0_MS + 360_000]
    );
}

#[test]
fn promoted_resource_attributes() {
    let resource = vec![
        kv("service.name", "api"),
        kv("k8s.namespace.name", "prod"),
        kv("cloud.region", "eu"),
    ];
    let opts = OtlpOptions {
        promote_resource_attributes: vec!["k8s.namespace.name".into(), "cloud.region".into()],
        ..Default::default()
    };
    let points = vec![
        point(vec![], T0, 1.0),
        point(vec![kv("cloud.region", "dp-wins")], T0, 2.0),
    ];
    let c = convert(&request(resource, vec![gauge("g", "", points)]), &opts);
    let m = by_labels(&c);
    let base = [
        ("__name__", "g"),
        ("job", "api"),
        ("k8s_namespace_name", "prod"),
    ];
    assert_eq!(
        m[&l(&[&base[..], &[("cloud_region", "eu")]].concat()).to_string()],
        [(T0_MS, 1.0)]
    );
    assert_eq!(
        m[&l(&[&base[..], &[("cloud_region", "dp-wins")]].concat()).to_string()],
        [(T0_MS, 2.0)]
    );
    // target_info is unchanged by promotion.
    let info = l(&[
        ("__name__", "target_info"),
        ("job", "api"),
        ("k8s_namespace_name", "prod"),
        ("cloud_region", "eu"),
    ]);
    assert_eq!(samples_of(&c, &info).len(), 1);
}

#[test]
fn scope_labels_only_when_promoted() {
    let mut req = request(
        vec![],
        vec![gauge(
            "g",
            "",
            vec![point(vec![kv("otel_scope_version", "dp")], T0, 1.0)],
        )],
    );
    let sm = &mut req.resource_metrics[0].scope_metrics[0];
    sm.scope = Some(InstrumentationScope {
        name: "io.opentelemetry.jdbc".into(),
        version: String::new(),
        attributes: vec![kv("lib.mascot", "bear")],
        ..Default::default()
    });
    sm.schema_url = "https://opentelemetry.io/schemas/1.24.0".into();
    // Prometheus 3 default: no scope labels (promote_scope_metadata: false).
    assert_eq!(
        only(&convert(&req, &OtlpOptions::default())).labels,
        l(&[("__name__", "g"), ("otel_scope_version", "dp")])
    );
    // Promoted: name, schema URL and attributes; the empty version removes the label.
    let opts = OtlpOptions {
        promote_scope_metadata: true,
        ..Default::default()
    };
    assert_eq!(
        only(&convert(&req, &opts)).labels,
        l(&[
            ("__name__", "g"),
            ("otel_scope_name", "io.opentelemetry.jdbc"),
            (
                "otel_scope_schema_url",
                "https://opentelemetry.io/schemas/1.24.0"
            ),
            ("otel_scope_lib_mascot", "bear"),
        ])
    );
    // A scope without a name adds nothing.
    req.resource_metrics[0].scope_metrics[0]
        .scope
        .as_mut()
        .unwrap()
        .name
        .clear();
    assert_eq!(
        only(&convert(&req, &opts)).labels,
        l(&[("__name__", "g"), ("otel_scope_version", "dp")])
    );
}

#[test]
fn invalid_resource_attribute_names() {
    // target_info cannot be built: reported, the data points are unaffected.
    let resource = vec![kv("service.name", "api"), kv("", "x")];
    let req = request(resource, vec![gauge("g", "", vec![point(vec![], T0, 1.0)])]);
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.target_info, 0);
    assert_eq!(only(&c).labels, l(&[("__name__", "g"), ("job", "api")]));
    assert_eq!(
        c.rejected,
        [OtlpRejection {
            metric: "target_info".into(),
            reason: "resource: invalid attribute name \"\": label name is empty".into(),
            points: 0,
        }]
    );
    // A promoted attribute that cannot be a label name: the resource is
    // skipped, as Prometheus's setResourceContext error does.
    let opts = OtlpOptions {
        promote_resource_attributes: vec!["___".into()],
        ..Default::default()
    };
    let resource = vec![kv("service.name", "api"), kv("___", "x")];
    let points = vec![point(vec![], T0, 1.0), point(vec![], T0, 2.0)];
    let c = convert(&request(resource, vec![gauge("g", "", points)]), &opts);
    assert!(c.series.is_empty());
    assert_eq!(
        c.rejected,
        [OtlpRejection {
            metric: "g".into(),
            reason: "promoted resource attribute \"___\": normalization for label name \"___\" \
                     resulted in invalid name \"___\""
                .into(),
            points: 2,
        }]
    );
}
