"""Converge's extensions of moto's ELBv2 (moto 5.2.x).

* Network load balancers get `loadbalancer/net/...` ARNs (and their listeners
  `listener/net/...`), as in AWS; moto gives every load balancer an `app/` ARN.
* CreateLoadBalancer with a name already in use: AWS answers the existing load balancer when
  the settings are the same (the call is idempotent) and `DuplicateLoadBalancerName`
  otherwise. moto created a second load balancer with the same name.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.exceptions import DuplicateLoadBalancerName
from moto.elbv2.models import ELBv2Backend

import control

_original_create_load_balancer = ELBv2Backend.create_load_balancer


def create_load_balancer(self: ELBv2Backend, name: str, *args: Any, **kwargs: Any) -> Any:
    with control.LOCK:
        lb_type = kwargs.get("loadbalancer_type") or "application"
        scheme = kwargs.get("scheme") or "internet-facing"
        for existing in self.load_balancers.values():
            if existing.name == name:
                if existing.type == lb_type and (existing.scheme or "internet-facing") == scheme:
                    return existing
                raise DuplicateLoadBalancerName()
        lb = _original_create_load_balancer(self, name, *args, **kwargs)
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


def install() -> None:
    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
