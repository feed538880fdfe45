"""Converge's extension of moto's EC2 (moto 5.2.x): security group rule limits refuse the whole call.

AWS allows 60 inbound and 60 outbound rules per security group by default ("Amazon VPC quotas":
"Inbound or outbound rules per security group: 60") and refuses a call that would go past it
with `RulesPerSecurityGroupLimitExceeded`, adding none of its rules. moto (5.2.1) enforces the
60 (VPC groups; counting each CIDR and each referenced group as one rule, IPv4 and IPv6
together), but checks one IpPermission at a time: an AuthorizeSecurityGroupIngress/Egress with
several permissions added the ones before the overflow, then failed. This checks the whole
request first, counting the way moto does.

Revoking a rule that references a security group: AWS matches the rule by protocol, ports and
the referenced group; a description is not part of a rule's identity ("RevokeSecurityGroupIngress":
"you must specify ... the source security group"; descriptions are not compared). moto 5.2.1
compares the whole source-group dict, Description included, so a revoke without the description
the rule was authorized with answered InvalidPermission.NotFound and the rule stayed.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import RulesPerSecurityGroupLimitExceededError
from moto.ec2.models.security_groups import SecurityGroupRule
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


def _source_group_identity(group: Any) -> Any:
    if not isinstance(group, dict):
        return group
    return {key: value for key, value in group.items() if key != "Description"}


def _match_without_descriptions() -> None:
    original = SecurityGroupRule.__eq__

    def equal(self: SecurityGroupRule, other: Any) -> bool:
        if not isinstance(other, SecurityGroupRule):
            return NotImplemented
        if _source_group_identity(self.source_group) != _source_group_identity(other.source_group):
            return False
        saved = (self.source_group, other.source_group)
        try:
            self.source_group = other.source_group = _source_group_identity(saved[0])
            return original(self, other)
        finally:
            self.source_group, other.source_group = saved

    SecurityGroupRule.__eq__ = equal  # type: ignore[method-assign]


# EC2 Describe* calls take at most 200 filter values in all ("FilterLimitExceeded: The maximum
# number of filter values specified on a single call is 200"; seen in boto3, the AWS SDK for Java
# and Go clients' issue trackers). moto took any number.
MAX_FILTER_VALUES = 200


def _limit_filter_values() -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses._base_response import EC2BaseResponse

    original = EC2BaseResponse._filters_from_querystring

    def limited(self: EC2BaseResponse) -> dict[str, Any]:
        filters = original(self)
        if sum(len(values) for values in filters.values()) > MAX_FILTER_VALUES:
            raise EC2ClientError("FilterLimitExceeded", f"The maximum number of filter values specified on a single call is {MAX_FILTER_VALUES}")
        return filters

    EC2BaseResponse._filters_from_querystring = limited  # type: ignore[method-assign]


def install() -> None:
    _limit_filter_values()
    _match_without_descriptions()
    _guard("authorize_security_group_ingress", egress=False)
    _guard("authorize_security_group_egress", egress=True)
