"""Loading partner profiles from disk: examples, invalid fixtures, every problem at once, look-ups."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gateway.domain.profiles import (
    Direction,
    PartnerProfile,
    ProfileError,
    ProfileSet,
    SftpPoll,
    check_profiles,
    load_profile_file,
    load_profiles,
    loader,
)
from gateway.domain.profiles.deviations import merge
from gateway.domain.profiles.loader import _ProfileYamlLoader

REPO = Path(__file__).resolve().parents[3]
PARTNERS = REPO / "partners"
FIXTURES = REPO / "tests" / "fixtures_profiles"
INVALID = FIXTURES / "invalid"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILztyI1GrsvqS3UtEWdZhDWNHXGdlK9gYnkZZfwqZNZl"


@pytest.fixture(scope="module")
def examples() -> ProfileSet:
    return load_profiles(PARTNERS)


def _problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ProfileError) as info:
        load_profiles(path)
    return [(p.file.name, p.path, p.reason) for p in info.value.problems]


# --- the shipped examples -----------------------------------------------------------------


def test_examples_load(examples: ProfileSet) -> None:
    assert examples.partner_ids == ["acme-retail", "northwind-supply", "swift-3pl"]
    assert examples.source("swift-3pl") == PARTNERS / "swift-3pl.yaml"


def test_acme_retail_as2_rollover(examples: ProfileSet) -> None:
    acme = examples["acme-retail"]
    as2 = acme.channels.as2
    assert as2 is not None
    assert [c.path.name for c in as2.partner_certificates] == ["acme-retail-2026.pem", "acme-retail-2027.p7b"]
    before_switch = as2.certificates_at(datetime(2027, 8, 31, tzinfo=UTC))
    after_switch = as2.certificates_at(datetime(2027, 9, 2, tzinfo=UTC))
    assert [c.path.name for c in before_switch] == ["acme-retail-2026.pem"]
    assert [c.path.name for c in after_switch] == ["acme-retail-2027.p7b"]
    # the second certificate's end comes from the certificate file itself (PKCS#7)
    assert as2.partner_certificates[1].not_after == datetime(2030, 6, 1, tzinfo=UTC)
    assert as2.our_key is not None
    assert as2.our_key.reference == f"file:{REPO / 'deploy/dev-keys/edigate-test-as2.key'}"
    assert as2.mdn.mode == "async"
    assert {(d.direction.value, d.type) for d in acme.documents} == {
        ("inbound", "850"),
        ("outbound", "855"),
        ("outbound", "856"),
        ("outbound", "810"),
        ("inbound", "997"),
        ("inbound", "po_json"),
        ("outbound", "poack_json"),
    }


def test_northwind_deviations_and_poll(examples: ProfileSet) -> None:
    northwind = examples["northwind-supply"]
    sftp = northwind.channels.sftp
    assert isinstance(sftp, SftpPoll)
    assert sftp.known_host_key.startswith("ssh-ed25519 AAAA")
    assert sftp.after_pickup == "archive"
    assert sftp.wants("PO_0001.x12")
    assert not sftp.wants("PO_0001.tmp")
    cron = sftp.schedule.cron_expression
    assert cron is not None
    assert cron.matches(datetime(2026, 11, 23, 6, 10))  # Monday 06:10
    assert not cron.matches(datetime(2026, 11, 22, 6, 10))  # Sunday
    policy = examples.document_policy("northwind-supply", "inbound", "856")
    assert policy is not None
    deviations = policy.mapping.deviations
    assert deviations.field_sources == {"po_number": "REF*PO"}
    assert deviations.party_roles == {"BS": "ship_to"}
    assert deviations.code_maps == {"uom": {"CS": "CA"}}
    assert deviations.defaults == {"structure_code": "0001"}
    assert "TD3" in deviations.ignore_segments
    assert "ZZ" in deviations.keep_references
    # zero-padded YAML numbers stayed text
    assert northwind.identity.isa_qualifier == "01"
    assert northwind.identity.isa_id == "0123456789"
    assert northwind.check_usage("T") is None
    assert northwind.check_usage("P") is not None


def test_swift_routing_and_webhook(examples: ProfileSet) -> None:
    swift = examples["swift-3pl"]
    assert swift.destinations("shipment_confirmation_json") == ["wms", "erp"]
    assert swift.channels.webhook is not None
    assert swift.channels.webhook.inbound is not None
    assert str(swift.channels.webhook.inbound.secret) == "env:SWIFT_3PL_INBOUND_SECRET"
    assert swift.identity.isa_key is None


def test_lookups(examples: ProfileSet) -> None:
    assert examples.by_isa("ZZ", "ACMERETAIL     ") is examples["acme-retail"]  # ISA06 arrives padded
    assert examples.by_isa("01", "0123456789") is examples["northwind-supply"]
    assert examples.by_isa("01", "ACMERETAIL") is None
    assert examples.by_as2_name("ACME-RETAIL-AS2") is examples["acme-retail"]
    assert examples.by_as2_name('"ACME-RETAIL-AS2"') is examples["acme-retail"]
    assert examples.by_as2_name("acme-retail-as2") is None  # AS2 names are case-sensitive
    assert examples.get("nobody") is None
    assert "swift-3pl" in examples
    policy = examples.document_policy("acme-retail", Direction.OUTBOUND, "856")
    assert policy is not None
    assert policy.ack.type == "997"
    assert policy.ack.overdue_hours == 24
    assert examples.document_policy("acme-retail", "inbound", "856") is None
    assert examples.document_policy("nobody", "inbound", "850") is None


def test_resolved_profile_round_trips(examples: ProfileSet) -> None:
    for profile in examples:
        again = PartnerProfile.model_validate(profile.redacted())
        assert again == profile


# --- invalid profiles: file, field path and reason ----------------------------------------


def test_every_invalid_fixture_is_reported_at_once() -> None:
    problems = _problems(INVALID)
    files = {name for name, _, _ in problems}
    assert files == {
        "missing-field.yaml",
        "bad-qualifier.yaml",
        "inline-secret.yaml",
        "bad-certificate.yaml",
        "duplicate-b.yaml",
    }
    assert len(problems) == 5


def test_missing_field() -> None:
    _, problems = load_profile_file(INVALID / "missing-field.yaml")
    assert [(p.file.name, p.path, p.reason) for p in problems] == [
        ("missing-field.yaml", "name", "required field is missing")
    ]


def test_bad_qualifier() -> None:
    _, problems = load_profile_file(INVALID / "bad-qualifier.yaml")
    assert len(problems) == 1
    assert problems[0].path == "identity.isa_qualifier"
    assert "'99' is not an ISA05 interchange ID qualifier" in problems[0].reason


def test_inline_secret_is_rejected_without_echoing_it() -> None:
    _, problems = load_profile_file(INVALID / "inline-secret.yaml")
    assert len(problems) == 1
    assert problems[0].path == "channels.webhook.inbound.secret"
    assert "inline secret" in problems[0].reason
    assert "hunter2" not in str(problems[0])


def test_certificate_that_does_not_load() -> None:
    _, problems = load_profile_file(INVALID / "bad-certificate.yaml")
    assert len(problems) == 1
    assert problems[0].path == "channels.as2.partner_certificates[1].path"
    assert "truncated.pem does not load" in problems[0].reason
    assert str(problems[0]).startswith(
        f"{INVALID / 'bad-certificate.yaml'}: channels.as2.partner_certificates[1].path: "
    )


def test_duplicate_partner_id_names_both_files() -> None:
    problems = [p for p in _problems(INVALID) if p[0].startswith("duplicate")]
    assert len(problems) == 1
    name, path, reason = problems[0]
    assert (name, path) == ("duplicate-b.yaml", "partner_id")
    assert "duplicate partner_id 'duplicate-partner'" in reason
    assert "duplicate-a.yaml" in reason


def test_duplicate_isa_and_as2_across_partners(tmp_path: Path) -> None:
    acme = yaml.safe_load((PARTNERS / "acme-retail.yaml").read_text())
    partners = tmp_path / "partners"
    shutil.copytree(PARTNERS / "certs", partners / "certs")
    shutil.copytree(REPO / "deploy" / "dev-keys", tmp_path / "deploy" / "dev-keys")
    for partner_id in ("acme-one", "acme-two"):
        (partners / f"{partner_id}.yaml").write_text(yaml.safe_dump({**acme, "partner_id": partner_id}))
    problems = _problems(partners)
    assert [(n, p) for n, p, _ in problems] == [
        ("acme-two.yaml", "identity.isa_id"),
        ("acme-two.yaml", "identity.as2_name"),
    ]
    assert all("acme-one.yaml" in reason and "'acme-one'" in reason for _, _, reason in problems)


def test_duplicate_sftp_push_account(tmp_path: Path) -> None:
    for partner_id in ("first", "second"):
        (tmp_path / f"{partner_id}.yaml").write_text(
            yaml.safe_dump(
                {
                    "partner_id": partner_id,
                    "name": partner_id,
                    "environment": "test",
                    "channels": {
                        "sftp": {
                            "mode": "push",
                            "account": {"username": "shared", "authorized_keys": [ED25519]},
                            "paths": {"inbox": "/in", "outbox": "/out"},
                        }
                    },
                    "documents": [{"direction": "inbound", "type": "po_json", "format": "json"}],
                }
            )
        )
    problems = _problems(tmp_path)
    assert len(problems) == 1
    assert problems[0][:2] == ("second.yaml", "channels.sftp.account.username")
    assert "SFTP account 'shared' is already used by 'first'" in problems[0][2]


def test_several_problems_in_one_file_and_cross_field_paths(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(
        """
partner_id: Not A Slug
name: Many Problems
environment: staging
channels:
  webhook:
    inbound: {secret: env:X, timestamp_tolerance_seconds: 0}
    outbound: {url: ftp://example.com/x, secret: file:secret.txt}
documents:
  - {direction: inbound, type: po_json, format: x12}
  - {direction: sideways, type: "850", format: x12}
contacts:
  - {name: A, email: not-an-email}
tpyo: true
"""
    )
    problems = {(p, r.split(":")[0]) for _, p, r in _problems(tmp_path)}
    paths = {p for p, _ in problems}
    assert paths == {
        "partner_id",
        "environment",
        "channels.webhook.inbound.timestamp_tolerance_seconds",
        "channels.webhook.outbound.url",
        "documents[0].format",
        "documents[1].direction",
        "contacts[0].email",
        "tpyo",
    }


def test_profile_level_cross_checks(tmp_path: Path) -> None:
    (tmp_path / "cross.yaml").write_text(
        """
partner_id: cross
name: Cross Checks
environment: test
channels:
  webhook:
    inbound: {secret: env:X}
documents:
  - {direction: inbound, type: "850", format: x12, version: "004010"}
  - {direction: inbound, type: "850", format: x12, version: "004010"}
routing:
  "856": [erp]
"""
    )
    problems = {(p, r) for _, p, r in _problems(tmp_path)}
    assert ("documents[1]", "inbound 850 is already listed at documents[0]") in problems
    assert ("identity.isa_id", "X12 documents need identity.isa_qualifier and identity.isa_id") in problems
    assert ("routing.856", "no inbound document of type 856 is configured") in problems


# --- YAML handling ------------------------------------------------------------------------


def test_yaml_errors_and_repeated_keys(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("partner_id: [unclosed\n")
    (tmp_path / "twice.yml").write_text("partner_id: a\npartner_id: b\n")
    (tmp_path / "list.yaml").write_text("- just\n- a list\n")
    (tmp_path / "notes.txt").write_text("not a profile")
    problems = _problems(tmp_path)
    by_file = {name: reason for name, _, reason in problems}
    assert set(by_file) == {"broken.yaml", "twice.yml", "list.yaml"}
    assert by_file["broken.yaml"].startswith("invalid YAML")
    assert "key 'partner_id' appears twice" in by_file["twice.yml"]
    assert "line 2" in by_file["twice.yml"]
    assert by_file["list.yaml"] == "a profile must be a YAML mapping of fields"


def test_missing_directory() -> None:
    problems = _problems(REPO / "no-such-dir")
    assert problems == [("no-such-dir", "", "not a directory of partner profiles")]


def test_mapping_variants_checked_when_asked(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "json-shipment-confirmation.yaml").write_text("{}")
    partners = tmp_path / "partners"
    partners.mkdir()
    shutil.copy(PARTNERS / "swift-3pl.yaml", partners)
    with pytest.raises(ProfileError) as info:
        load_profiles(partners, mappings_dir=mappings)
    assert [(p.path, p.reason) for p in info.value.problems] == [
        ("documents[1].mapping.variant", f"no mapping 'json-warehouse-order' in {mappings}")
    ]
    (mappings / "json-warehouse-order.json").write_text("{}")  # not a variant: variants are YAML
    with pytest.raises(ProfileError):
        load_profiles(partners, mappings_dir=mappings)
    (mappings / "json-warehouse-order.yaml").write_text("deviations: {json_fields: {po_number: order.id}}")
    assert len(load_profiles(partners, mappings_dir=mappings)) == 1
    (mappings / "json-warehouse-order.yaml").write_text("deviations: {json_fields: {po_numbr: order.id}}")
    with pytest.raises(ProfileError) as again:
        load_profiles(partners, mappings_dir=mappings)
    assert [(p.path, p.reason) for p in again.value.problems] == [
        ("documents[1].mapping.variant",
         "json-warehouse-order: json_fields.po_numbr: not a name of the warehouse_order_json shape "
         "(see mappings/ and docs/partners.md)"),
    ]  # fmt: skip


def test_certificate_expiry_warnings() -> None:
    soon = check_profiles(PARTNERS, now=datetime(2027, 8, 20, tzinfo=UTC))
    assert not soon.problems
    assert [(w.path, w.reason) for w in soon.warnings] == [
        ("channels.as2.partner_certificates[0]", "certificate window ends soon, on 2027-09-01")
    ]
    late = check_profiles(PARTNERS, now=datetime(2031, 2, 1, tzinfo=UTC))
    reasons = {(w.path, w.reason) for w in late.warnings}
    assert ("channels.as2.partner_certificates", "no partner certificate is valid now") in reasons
    assert ("channels.as2.our_certificate", "certificate window ended 2031-01-01") in reasons


def test_deviations_apply_on_top_of_a_variant(examples: ProfileSet) -> None:
    policy = examples.document_policy("northwind-supply", "inbound", "856")
    assert policy is not None
    variant = policy.mapping.deviations.model_validate({"party_roles": {"BY": "buyer", "BS": "bill_to"}})
    merged = merge(variant, policy.mapping.deviations)
    assert merged.party_roles == {"BY": "buyer", "BS": "ship_to"}


# --- field errors do not hide the other problems of a file --------------------------------

_WEBHOOK = {"webhook": {"inbound": {"secret": "env:X"}}}


def _profile(partner_id: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "partner_id": partner_id,
        "name": partner_id.title(),
        "environment": "test",
        "channels": _WEBHOOK,
        "documents": [{"direction": "inbound", "type": "po_json", "format": "json"}],
    }
    data.update(fields)
    return data


def _write(directory: Path, name: str, data: dict[str, object]) -> None:
    (directory / name).write_text(yaml.safe_dump(data, sort_keys=False))


def _rules_with_problems() -> list[dict[str, object]]:
    x12: dict[str, object] = {"direction": "inbound", "type": "850", "format": "x12", "version": "004010"}
    deviations = {"code_maps": {"nosuch": {"A": "B"}}, "party_roles": {"ZZ": "nobody"}}
    return [{**x12, "mapping": {"deviations": deviations}}, x12]


def test_a_field_error_does_not_hide_the_other_problems_of_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "alpha.yaml", _profile("dup", identity={"isa_qualifier": "ZZ", "isa_id": "ALPHA"}))
    beta = _profile(
        "dup",
        name="",  # a field error ...
        accept_test_interchanges=True,  # ... and every kind of problem that only shows up besides it
        documents=_rules_with_problems(),
        routing={"856": ["erp"], "850": ["erp", "erp"]},
    )
    _write(tmp_path, "beta.yaml", beta)
    problems = [(n, p, r.split(";")[0]) for n, p, r in _problems(tmp_path)]
    assert problems == [
        ("beta.yaml", "name", "String should have at least 1 character"),
        ("beta.yaml", "documents[1]", "inbound 850 is already listed at documents[0]"),
        ("beta.yaml", "identity.isa_id", "X12 documents need identity.isa_qualifier and identity.isa_id"),
        ("beta.yaml", "accept_test_interchanges", "applies to production partners"),
        ("beta.yaml", "routing.856", "no inbound document of type 856 is configured"),
        ("beta.yaml", "routing.850", "a destination is listed more than once"),
        ("beta.yaml", "documents[0].mapping.deviations.code_maps.nosuch", "unknown code list"),
        ("beta.yaml", "documents[0].mapping.deviations.party_roles.ZZ", "unknown role 'nobody'"),
        ("beta.yaml", "partner_id", f"duplicate partner_id 'dup', also in {tmp_path / 'alpha.yaml'}"),
    ]
    # the same problems as when the field error is fixed: nothing is left for a second round
    _write(tmp_path, "beta.yaml", {**beta, "name": "Beta"})
    fixed = [(n, p, r.split(";")[0]) for n, p, r in _problems(tmp_path)]
    assert fixed == problems[1:]


def test_claims_of_an_invalid_profile_are_compared(tmp_path: Path) -> None:
    """ISA identity, AS2 name and SFTP account of a profile with field errors still conflict."""
    push = {
        "mode": "push",
        "account": {"username": "shared", "authorized_keys": [ED25519]},
        "paths": {"inbox": "/in", "outbox": "/out"},
    }
    identity = {"isa_qualifier": "ZZ", "isa_id": "SAME", "as2_name": "SAME-AS2"}
    # invalid partner_id: its claims are still compared, named by file
    _write(tmp_path, "a.yaml", _profile("Not A Slug", identity=identity, channels={"sftp": push}))
    _write(tmp_path, "b.yaml", _profile("bee", identity=identity, channels={"sftp": push}))
    # a bad GS ID, an unknown environment and a bad key: the valid ISA ID and user are still claims
    bad_push = {**push, "account": {"username": "shared", "authorized_keys": ["not a key"]}}
    bad_identity = {**identity, "as2_name": "HAS SPACE", "gs_application_ids": ["x"]}
    _write(
        tmp_path,
        "c.yaml",
        _profile("sea", environment="staging", identity=bad_identity, channels={"sftp": bad_push}),
    )
    problems = [(n, p, r) for n, p, r in _problems(tmp_path)]
    a = tmp_path / "a.yaml"
    conflicts = [(n, p, r) for n, p, r in problems if "already used" in r]
    assert conflicts == [
        ("b.yaml", "identity.isa_id", f"ISA ZZ/SAME is already used by {a}"),
        ("b.yaml", "identity.as2_name", f"AS2 name 'SAME-AS2' is already used by {a}"),
        ("b.yaml", "channels.sftp.account.username", f"SFTP account 'shared' is already used by {a}"),
        ("c.yaml", "identity.isa_id", f"ISA ZZ/SAME is already used by {a}"),
        ("c.yaml", "channels.sftp.account.username", f"SFTP account 'shared' is already used by {a}"),
    ]
    assert {(n, p) for n, p, r in problems if "already used" not in r} == {
        ("a.yaml", "partner_id"),
        ("c.yaml", "environment"),
        ("c.yaml", "identity.gs_application_ids[0]"),
        ("c.yaml", "identity.as2_name"),
        ("c.yaml", "channels.sftp.account.authorized_keys[0]"),
    }


def test_unreadable_rules_do_not_make_routing_problems(tmp_path: Path) -> None:
    """A route to a type whose rule is invalid is not reported as unconfigured: the rule's own
    problem is, and the route is judged once the rule can be read."""
    rules = [
        {"direction": "inbound", "type": 856, "format": "x12", "version": "bad"},
        {"direction": "outbound", "type": "855", "format": "x12", "version": "bad"},
    ]
    _write(tmp_path, "p.yaml", _profile("p", documents=rules, routing={"856": ["erp"], "855": ["erp"]}))
    assert [(p, r) for _, p, r in _problems(tmp_path) if p.startswith(("routing", "identity"))] == [
        ("routing.855", "no inbound document of type 855 is configured")
    ]
    _write(tmp_path, "p.yaml", _profile("p", documents="not a list", routing={"856": ["erp"]}))
    assert [p for _, p, _ in _problems(tmp_path)] == ["documents"]


_ODD_VALUES: list[object] = [None, "", "x", 0, True, [], [None], {}, {"x": None}, -1.5]


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.extend(_paths(child, (*prefix, key)))
    return found


def _replaced(data: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: _replaced(v, rest, new) if k == head else v for k, v in data.items()}
    assert isinstance(data, list)
    return [_replaced(v, rest, new) if i == head else v for i, v in enumerate(data)]


@pytest.mark.parametrize("example", ["northwind-supply", "swift-3pl", "acme-retail"])
def test_malformed_values_anywhere_are_reported_once_without_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    """Every value of a shipped profile, replaced by values of the wrong kind: each file is checked
    as far as it can be read, never raises, and prints no problem twice.

    The YAML of each case is handed over as read (parsing it again would take most of the time)."""
    partners = tmp_path / "partners"
    shutil.copytree(PARTNERS / "certs", partners / "certs")
    shutil.copytree(REPO / "deploy" / "dev-keys", tmp_path / "deploy" / "dev-keys")
    original = yaml.load((PARTNERS / f"{example}.yaml").read_text(), Loader=_ProfileYamlLoader)
    for name in ("mutated.yaml", "twin.yaml"):  # a second profile: claims are compared too
        (partners / name).write_text("")
    current: dict[str, object] = {"twin.yaml": original}
    monkeypatch.setattr(loader, "_read_yaml", lambda file: (current[file.name], []))
    cases = 0
    for path in _paths(original):
        for odd in _ODD_VALUES:
            current["mutated.yaml"] = _replaced(original, path, odd)
            result = check_profiles(partners)
            lines = [str(p) for p in result.problems]
            assert len(lines) == len(set(lines)), (path, odd, lines)
            cases += 1
    assert cases > 300


def test_rules_after_an_unreadable_one_are_still_checked(tmp_path: Path) -> None:
    rules = [None, *_rules_with_problems()]
    _write(
        tmp_path, "p.yaml", _profile("p", documents=rules, identity={"isa_qualifier": "ZZ", "isa_id": "P"})
    )
    assert [p for _, p, _ in _problems(tmp_path)] == [
        "documents[0]",
        "documents[2]",
        "documents[1].mapping.deviations.code_maps.nosuch",
        "documents[1].mapping.deviations.party_roles.ZZ",
    ]
