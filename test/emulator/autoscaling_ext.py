"""Converge's extensions of moto's Application Auto Scaling (moto 5.2.x).

Added (moto 5.2.1 lacks them):

* Tags on scalable targets: RegisterScalableTarget keeps `Tags` when it registers a new target
  (on an existing one they are ignored, as AWS does: TagResource changes them);
  `ListTagsForResource`, `TagResource`, `UntagResource` by the target's ARN. An ARN that names no
  target: `ResourceNotFoundException`.
* DescribeScalingPolicies honours `PolicyNames` and matches `ResourceId` exactly (moto ignored the
  names and matched the ResourceId as a substring), answers at most 10 policies a page (AWS: MaxResults
  1 to 10, default 10; more: `ValidationException`).
* DeregisterScalableTarget deletes the target's scaling policies (and their alarms) with it, as
  AWS does; an unknown target answers `ObjectNotFoundException` (moto: ValidationException).

Refusals AWS makes that moto did not (API reference, RegisterScalableTarget, PutScalingPolicy,
PredefinedMetricSpecification):

* RegisterScalableTarget with MinCapacity greater than MaxCapacity (also against the values an
  existing target keeps) -> `ValidationException: Minimum capacity cannot be greater than maximum
  capacity` (message *unconfirmed*); a new target without MinCapacity and MaxCapacity ->
  `ValidationException`.
* RegisterScalableTarget for an ECS ResourceId whose service does not exist or is not ACTIVE (or
  whose cluster does not exist) -> `ValidationException: ECS service doesn't exist: <id>` (moto
  checked the service but let a missing cluster's ClusterNotFoundException through and accepted
  INACTIVE services).
* PutScalingPolicy on a target that is not registered -> `ObjectNotFoundException: No scalable target
  registered for service namespace: ..., resource ID: ..., scalable dimension: ...`.
* PutScalingPolicy with PredefinedMetricType `ALBRequestCountPerTarget` and no ResourceLabel, or one
  not of the form `app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>` ->
  `ValidationException`; a ResourceLabel on any other metric type -> `ValidationException`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, applicationautoscaling_backends
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError

POLICIES_PAGE_LIMIT = 10

# app/<name>/<id>/targetgroup/<name>/<id>: ELB names are 1-32 letters, digits and hyphens.
_RESOURCE_LABEL = re.compile(r"^app/[A-Za-z0-9-]{1,32}/[A-Za-z0-9]+/targetgroup/[A-Za-z0-9-]{1,32}/[A-Za-z0-9]+$")


class ObjectNotFoundException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


class ResourceNotFoundException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


def _backend(response: ApplicationAutoScalingResponse) -> ApplicationAutoscalingBackend:
    return applicationautoscaling_backends[response.current_account][response.region]


def _target(backend: ApplicationAutoscalingBackend, resource_id: str, dimension: str) -> Any:
    return backend.targets.get(dimension, {}).get(resource_id)


def _target_by_arn(backend: ApplicationAutoscalingBackend, arn: str) -> Any:
    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    raise ResourceNotFoundException(f"No scalable target found for ARN {arn}")


def _ecs_service_active(backend: ApplicationAutoscalingBackend, resource_id: str) -> None:
    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        raise AWSValidationException(f"Unsupported resource ID for ECS: {resource_id}")
    _, cluster, service = parts
    try:
        found, _ = backend.ecs_backend.describe_services(cluster, [service])
    except Exception:  # ClusterNotFoundException and the like: AWS answers a validation error
        found = []
    if len(found) != 1 or getattr(found[0], "status", "ACTIVE") != "ACTIVE":
        raise AWSValidationException(f"ECS service doesn't exist: {resource_id}")


def install() -> None:
    original_register = ApplicationAutoScalingResponse.register_scalable_target
    original_put_policy = ApplicationAutoScalingResponse.put_scaling_policy

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        backend = _backend(self)
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        min_capacity = self._get_int_param("MinCapacity")
        max_capacity = self._get_int_param("MaxCapacity")
        existing = _target(backend, resource_id, dimension)
        if existing is None and (min_capacity is None or max_capacity is None):
            raise AWSValidationException("MinCapacity and MaxCapacity are required when registering a new scalable target")
        low = min_capacity if min_capacity is not None else getattr(existing, "min_capacity", None)
        high = max_capacity if max_capacity is not None else getattr(existing, "max_capacity", None)
        if low is not None and high is not None and low > high:
            raise AWSValidationException("Minimum capacity cannot be greater than maximum capacity")
        if namespace == "ecs":
            _ecs_service_active(backend, resource_id)
        answer = original_register(self)
        target = _target(backend, resource_id, dimension)
        if existing is None and target is not None:
            target.converge_tags = dict(self._get_param("Tags") or {})
        return answer

    def deregister_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        backend = _backend(self)
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        if _target(backend, resource_id, dimension) is None:
            raise ObjectNotFoundException(
                f"No scalable target registered for service namespace: {namespace}, resource ID: {resource_id}, scalable dimension: {dimension}"
            )
        for key, policy in list(backend.policies.items()):
            if policy.service_namespace == namespace and policy.resource_id == resource_id and policy.scalable_dimension == dimension:
                policy.delete_alarms(backend.account_id, backend.region_name)
                del backend.policies[key]
        del backend.targets[dimension][resource_id]
        return json.dumps({})

    def put_scaling_policy(self: ApplicationAutoScalingResponse) -> str:
        backend = _backend(self)
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        if _target(backend, resource_id, dimension) is None:
            raise ObjectNotFoundException(
                f"No scalable target registered for service namespace: {namespace}, resource ID: {resource_id}, scalable dimension: {dimension}"
            )
        config = self._get_param("TargetTrackingScalingPolicyConfiguration") or {}
        predefined = config.get("PredefinedMetricSpecification") or {}
        metric_type = predefined.get("PredefinedMetricType")
        label = predefined.get("ResourceLabel")
        if metric_type == "ALBRequestCountPerTarget":
            if not label or not _RESOURCE_LABEL.match(label):
                raise AWSValidationException(
                    f"The resource label '{label or ''}' is not valid for ALBRequestCountPerTarget: it must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>"
                )
        elif label:
            raise AWSValidationException(f"A resource label can only be specified with the ALBRequestCountPerTarget metric type, not {metric_type}")
        return original_put_policy(self)

    def describe_scaling_policies(self: ApplicationAutoScalingResponse) -> str:
        backend = _backend(self)
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        names = self._get_param("PolicyNames") or []
        max_results = self._get_int_param("MaxResults") or POLICIES_PAGE_LIMIT
        if max_results < 1 or max_results > POLICIES_PAGE_LIMIT:
            raise AWSValidationException(f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {POLICIES_PAGE_LIMIT}")
        policies = [p for p in backend.policies.values() if p.service_namespace == namespace]
        if resource_id:
            policies = [p for p in policies if p.resource_id == resource_id]
        if dimension:
            policies = [p for p in policies if p.scalable_dimension == dimension]
        if names:
            policies = [p for p in policies if p.policy_name in names]
        start = int(self._get_param("NextToken") or 0)
        page = policies[start : start + max_results]
        next_token = str(start + max_results) if start + max_results < len(policies) else None
        from moto.applicationautoscaling.responses import _build_policy

        return json.dumps({"ScalingPolicies": [_build_policy(p) for p in page], "NextToken": next_token})

    def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
        target = _target_by_arn(_backend(self), self._get_param("ResourceARN"))
        return json.dumps({"Tags": dict(getattr(target, "converge_tags", {}))})

    def tag_resource(self: ApplicationAutoScalingResponse) -> str:
        target = _target_by_arn(_backend(self), self._get_param("ResourceARN"))
        tags = dict(getattr(target, "converge_tags", {}))
        tags.update(self._get_param("Tags") or {})
        target.converge_tags = tags
        return json.dumps({})

    def untag_resource(self: ApplicationAutoScalingResponse) -> str:
        target = _target_by_arn(_backend(self), self._get_param("ResourceARN"))
        tags = dict(getattr(target, "converge_tags", {}))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        target.converge_tags = tags
        return json.dumps({})

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.deregister_scalable_target = deregister_scalable_target  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.put_scaling_policy = put_scaling_policy  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.describe_scaling_policies = describe_scaling_policies  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = untag_resource  # type: ignore[attr-defined]
