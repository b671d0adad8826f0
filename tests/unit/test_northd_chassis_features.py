"""pyovn-northd reads the feature flags a 23.03 controller announces under their real keys."""

from __future__ import annotations

from pyovn.controller.chassis import FEATURES
from pyovn.northd.global_config import chassis_features
from pyovn.ovsdb.rows import make_row_class

#: What ovn-northd 23.03 derives from Chassis other_config (``struct chassis_features``).
FEATURES_OF_23_03 = ("ct_no_masked_label", "mac_binding_timestamp", "ct_lb_related")


def test_a_chassis_of_pyovn_controller_grants_every_23_03_feature() -> None:
    chassis = make_row_class("Chassis", ["name", "other_config"])
    modern = chassis.make("c", name="hv1", other_config=dict(FEATURES))
    features = chassis_features([modern])
    assert {name: features[name] for name in FEATURES_OF_23_03} == \
        dict.fromkeys(FEATURES_OF_23_03, True)


def test_ct_lb_related_is_read_from_its_ovn_prefixed_key() -> None:
    chassis = make_row_class("Chassis", ["name", "other_config"])
    unprefixed = chassis.make("c", name="hv1", other_config={"ct-lb-related": "true"})
    prefixed = chassis.make("c", name="hv1", other_config={"ovn-ct-lb-related": "true"})
    assert not chassis_features([unprefixed])["ct_lb_related"]
    assert chassis_features([prefixed])["ct_lb_related"]
