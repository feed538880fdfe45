"""Converge's extensions of moto's ELBv2 (moto 5.2.x).

* Network load balancers get `loadbalancer/net/...` ARNs (and their listeners
  `listener/net/...`), as in AWS; moto gives every load balancer an `app/` ARN.
* CreateLoadBalancer with a name already in use: AWS answers the existing load balancer when
  the settings are the same (the call is idempotent) and `DuplicateLoadBalancerName`
  otherwise. moto created a second load balancer with the same name.
* One subnet per Availability Zone. CreateLoadBalancer and SetSubnets given two subnets of one
  zone: `InvalidConfigurationRequest: A load balancer cannot be attached to multiple subnets in
  the same Availability Zone` (ELBv2 API reference, CreateLoadBalancer/SetSubnets `Subnets`:
  "You can specify only one subnet per Availability Zone"; the message is the one AWS answers,
  quoted in e.g. docker/compose-cli#921, robertdebock/terraform-aws-vault#5). moto accepted it on
  CreateLoadBalancer and answered `SubnetNotFound` on SetSubnets. SetSubnets also stops asking a
  network load balancer for two zones (only application load balancers need two: API reference).
* CreateListener on a port already in use, and CreateTargetGroup with a name in use: AWS
  answers the existing listener or target group when the settings are the same ("If you attempt
  to create multiple listeners/target groups with the same settings, each call succeeds": ELBv2
  API reference, CreateListener and CreateTargetGroup), and `DuplicateListener` /
  `DuplicateTargetGroupName` otherwise. moto created a second listener on the port (it looked the
  port up among listener ARNs), and refused a same-named target group whatever its settings. An
  SDK retry of a create whose answer was lost is such a second call.
* Listeners per load balancer: 50 ("Quotas for your Network Load Balancers": 50, not
  adjustable; ALB: 50 by default). The 51st CreateListener: `TooManyListeners` (message from
  the API model's TooManyListenersException doc; AWS's own wording is unconfirmed). moto had
  no limit.
* `load_balancing.cross_zone.enabled`: AWS defaults it to "true" for application load
  balancers and "false" for network (and gateway) load balancers (ELB docs, "Cross-zone load
  balancing"). moto answered "false" for every type; ALBs now start at "true". moto already
  accepts the attribute in ModifyLoadBalancerAttributes for both types.

Tag limits (50 per resource) are in tag_limits_ext.py.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from moto.elbv2.exceptions import (
    DuplicateListenerError,
    DuplicateLoadBalancerName,
    DuplicateTargetGroupName,
    ELBClientError,
    LoadBalancerNotFoundError,
    SubnetNotFoundError,
)
from moto.elbv2.models import AvailabilityZone, ELBv2Backend, FakeAction

import control

LISTENERS_PER_LOAD_BALANCER = 50
# "Application Load Balancers per Region" and "Network Load Balancers per Region": 50 each by default
# (adjustable in Service Quotas; aws-facts.md section 10). CreateLoadBalancer past it: TooManyLoadBalancers.
LOAD_BALANCERS_PER_REGION = 50


class InvalidConfigurationRequest(ELBClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidConfigurationRequest", message)


class TooManyLoadBalancers(ELBClientError):
    code = "TooManyLoadBalancers"
    message = "You've reached the limit on the number of load balancers for your AWS account."


class TooManyListeners(ELBClientError):
    code = "TooManyListeners"
    message = "You've reached the limit on the number of listeners per load balancer."


def _subnets_one_per_zone(self: ELBv2Backend, subnet_ids: list[str]) -> list[Any]:
    """The subnets, refusing unknown ones and two subnets of one Availability Zone."""
    subnets, zones = [], set()
    for subnet_id in subnet_ids:
        try:
            subnet = self.ec2_backend.get_subnet(subnet_id)
        except Exception:
            raise SubnetNotFoundError()
        if subnet.availability_zone in zones:
            raise InvalidConfigurationRequest(
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
            )
        zones.add(subnet.availability_zone)
        subnets.append(subnet)
    return subnets


def _mapped_subnet_ids(subnet_ids: list[str] | None, subnet_mappings: list[dict[str, Any]] | None) -> list[str]:
    return list(subnet_ids or []) + [m["SubnetId"] for m in subnet_mappings or []]


_original_create_load_balancer = ELBv2Backend.create_load_balancer
_CREATE_LOAD_BALANCER = inspect.signature(_original_create_load_balancer)


def create_load_balancer(self: ELBv2Backend, name: str, *args: Any, **kwargs: Any) -> Any:
    with control.LOCK:
        call = _CREATE_LOAD_BALANCER.bind(self, name, *args, **kwargs)
        call.apply_defaults()
        params = call.arguments
        _subnets_one_per_zone(self, _mapped_subnet_ids(params["subnet_ids"], params["subnet_mappings"]))
        lb_type = params["loadbalancer_type"] or "application"
        scheme = params["scheme"] or "internet-facing"
        for existing in self.load_balancers.values():
            if existing.name == name:
                if existing.type == lb_type and (existing.scheme or "internet-facing") == scheme:
                    return existing
                raise DuplicateLoadBalancerName()
        if sum(1 for existing in self.load_balancers.values() if existing.type == lb_type) >= LOAD_BALANCERS_PER_REGION:
            raise TooManyLoadBalancers()
        lb = _original_create_load_balancer(self, name, *args, **kwargs)
        if lb.type == "application":
            lb.attrs["load_balancing.cross_zone.enabled"] = "true"
        if lb.type == "network" and ":loadbalancer/app/" in lb.arn:
            old_arn = lb.arn
            new_arn = old_arn.replace(":loadbalancer/app/", ":loadbalancer/net/")
            self.load_balancers.pop(old_arn)
            lb.arn = new_arn
            self.load_balancers[new_arn] = lb
            tags = self.tagging_service.list_tags_for_resource(old_arn).get("Tags", [])
            self.tagging_service.delete_all_tags_for_resource(old_arn)
            if tags:
                self.tagging_service.tag_resource(new_arn, tags)
        return lb


def set_subnets(
    self: ELBv2Backend, arn: str, subnets: list[str], subnet_mappings: list[dict[str, Any]]
) -> list[AvailabilityZone]:
    with control.LOCK:
        balancer = self.load_balancers.get(arn)
        if balancer is None:
            raise LoadBalancerNotFoundError()
        subnet_objects = _subnets_one_per_zone(self, _mapped_subnet_ids(subnets, subnet_mappings))
        if balancer.type == "application" and len(subnet_objects) < 2:
            # moto's message, kept; AWS: "[Application Load Balancers] You must specify subnets
            # from at least two Availability Zones."
            raise InvalidConfigurationRequest("More than 1 availability zone must be specified")
        balancer.subnets = subnet_objects
        return [AvailabilityZone(subnet) for subnet in subnet_objects]


_original_create_listener = ELBv2Backend.create_listener


_CREATE_LISTENER = inspect.signature(_original_create_listener)


def _same_listener(existing: Any, params: dict[str, Any]) -> bool:
    """The settings of a CreateListener call equal those of the existing listener on its port."""
    actions = [dict(FakeAction(copy.deepcopy(a)).data) for a in params["actions"] or []]
    return (
        (existing.protocol or "") == (params["protocol"] or "").upper()
        and (existing.ssl_policy or None) == (params["ssl_policy"] or None)
        and (existing.certificate or None) == (params["certificate"] or None)
        and [a.data for a in existing.default_actions] == actions
    )


def create_listener(self: ELBv2Backend, load_balancer_arn: str, *args: Any, **kwargs: Any) -> Any:
    with control.LOCK:
        balancer = self.load_balancers.get(load_balancer_arn)
        if balancer is not None:
            call = _CREATE_LISTENER.bind(self, load_balancer_arn, *args, **kwargs)
            call.apply_defaults()
            params = call.arguments
            for existing in balancer.listeners.values():
                if str(existing.port) == str(params["port"]):
                    if _same_listener(existing, params):
                        return existing
                    raise DuplicateListenerError()
            if len(balancer.listeners) >= LISTENERS_PER_LOAD_BALANCER:
                raise TooManyListeners()
        return _original_create_listener(self, load_balancer_arn, *args, **kwargs)


_original_create_target_group = ELBv2Backend.create_target_group

# The settings CreateTargetGroup compares (the others default on the group and are changed with ModifyTargetGroup).
_TARGET_GROUP_SETTINGS = (("protocol", "protocol"), ("port", "port"), ("vpc_id", "vpc_id"), ("target_type", "target_type"))


def create_target_group(self: ELBv2Backend, name: str, **kwargs: Any) -> Any:
    with control.LOCK:
        for existing in self.target_groups.values():
            if existing.name != name:
                continue
            wanted = {"target_type": "instance", **{k: v for k, v in kwargs.items() if v is not None}}
            if all(str(getattr(existing, attr, None)) == str(wanted.get(param)) for param, attr in _TARGET_GROUP_SETTINGS):
                return existing
            raise DuplicateTargetGroupName()
        return _original_create_target_group(self, name, **kwargs)


def install() -> None:
    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    ELBv2Backend.set_subnets = set_subnets  # type: ignore[method-assign]
    ELBv2Backend.create_listener = create_listener  # type: ignore[method-assign]
    ELBv2Backend.create_target_group = create_target_group  # type: ignore[method-assign]
