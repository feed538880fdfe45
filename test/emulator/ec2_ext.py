"""Converge's extension of moto's EC2 (moto 5.2.x): security group rule limits refuse the whole call.

AWS allows 60 inbound and 60 outbound rules per security group by default ("Amazon VPC quotas":
"Inbound or outbound rules per security group: 60") and refuses a call that would go past it
with `RulesPerSecurityGroupLimitExceeded`, adding none of its rules. moto (5.2.1) enforces the
60 (VPC groups; counting each CIDR and each referenced group as one rule, IPv4 and IPv6
together), but checks one IpPermission at a time: an AuthorizeSecurityGroupIngress/Egress with
several permissions added the ones before the overflow, then failed. This checks the whole
request first, counting the way moto does.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import RulesPerSecurityGroupLimitExceededError
from moto.ec2.responses.security_groups import SecurityGroups

import control

RULES_PER_SECURITY_GROUP = 60  # VPC security groups (moto: 100 for EC2-Classic ones)


def _guard(operation: str, egress: bool) -> None:
    handler = getattr(SecurityGroups, operation)

    def guarded(self: SecurityGroups) -> Any:
        with control.LOCK:
            requests = list(self._process_rules_from_querystring())
            if requests:
                group = self.ec2_backend.get_security_group_by_name_or_id(requests[0]["group_name_or_id"])
                if group is not None and group.vpc_id:
                    existing = len(group.egress_rules if egress else group.ingress_rules)
                    added = sum(len(r["ip_ranges"] or []) + len(r["source_groups"] or []) for r in requests)
                    if existing + added > RULES_PER_SECURITY_GROUP:
                        raise RulesPerSecurityGroupLimitExceededError()
            return handler(self)

    guarded.__name__ = operation
    setattr(SecurityGroups, operation, guarded)


def install() -> None:
    _guard("authorize_security_group_ingress", egress=False)
    _guard("authorize_security_group_egress", egress=True)
