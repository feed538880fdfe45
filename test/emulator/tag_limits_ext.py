"""Converge's extension of moto (5.2.x): at most 50 user tags per resource, as AWS enforces.

Tag keys that start with `aws:` (any case) are reserved for AWS and do not count. A create
call may carry at most 50; a tagging call may not take the resource past 50 (keys it only
overwrites do not add). The call is refused whole, nothing is tagged.

| service    | operations                                                   | error (SDK v3 `name`)                  |
| ---------- | ------------------------------------------------------------ | -------------------------------------- |
| ELBv2      | AddTags, CreateLoadBalancer, CreateTargetGroup, CreateListener, CreateRule | `TooManyTags` (`TooManyTagsException`) |
| ECS        | TagResource, CreateCluster, CreateService, RegisterTaskDefinition | `InvalidParameterException`       |
| Logs       | CreateLogGroup, TagLogGroup, TagResource (> 50 in the request) | `InvalidParameterException` (validation) |
| Logs       | TagResource (resource would pass 50)                         | `TooManyTagsException`                 |
| CodeDeploy | TagResource, CreateApplication, CreateDeploymentGroup        | `TagLimitExceededException`            |
| EC2        | CreateTags, TagSpecifications (moto already enforces 50)     | `TagLimitExceeded`                     |

Sources: 50 per resource: ECS service quotas ("Tags per resource: 50") and the ECS model's `tags`
documentation; "Tag an Application Load Balancer" / "Tag a target group" (ELBv2, 50, `aws:`
reserved); CloudWatch Logs API reference TagResource ("as many as 50 tags", map of at most 50
entries) and its TooManyTagsException ("A resource can have no more than 50 tags."). CloudWatch
Logs answers request-constraint violations as InvalidParameterException ("1 validation error
detected: ... failed to satisfy constraint"). Unconfirmed: the exact ECS message, and the
CodeDeploy error (the model lists TagLimitExceededException only for on-premises instance
tags; the 50 limit is AWS's general one, "Tagging AWS resources").

moto before: ELBv2 AddTags refused once a resource already had 10 tags (and checked nothing on
the Create* calls); ECS, Logs and CodeDeploy had no limit.
"""

from __future__ import annotations

from typing import Any, Callable

from moto.codedeploy.responses import CodeDeployResponse
from moto.ecs.exceptions import InvalidParameterException as EcsInvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.exceptions import TooManyTagsError
from moto.elbv2.models import ELBv2Backend
from moto.elbv2.responses import ELBV2Response
from moto.logs.exceptions import InvalidParameterException as LogsInvalidParameterException
from moto.logs.exceptions import LogsClientError
from moto.logs.responses import LogsResponse

import control
from codedeploy_ext import CodeDeployError

MAX_TAGS = 50


def user_tag_keys(tags: Any) -> set[str]:
    """Keys of a tag list (`[{Key|key: ...}]`) or map (`{key: value}`), without `aws:` ones."""
    if isinstance(tags, dict):
        keys: Any = tags.keys()
    else:
        keys = [t.get("Key", t.get("key")) for t in tags or [] if isinstance(t, dict)]
    return {k for k in keys if isinstance(k, str) and not k.lower().startswith("aws:")}


def too_many(new: Any, existing: Any = None) -> bool:
    return len(user_tag_keys(existing) | user_tag_keys(new)) > MAX_TAGS


def _guard(cls: type, operation: str, check: Callable[[Any], None]) -> None:
    """Run `check(response)` before the operation's current handler (moto's or an extension's)."""
    handler = getattr(cls, operation)

    def guarded(self: Any) -> Any:
        with control.LOCK:
            check(self)
            return handler(self)

    guarded.__name__ = operation
    setattr(cls, operation, guarded)


# ---- ELBv2 --------------------------------------------------------------------------------


def _elbv2_create(self: ELBV2Response) -> None:
    if too_many(self._get_params().get("Tags")):
        raise TooManyTagsError()


def elbv2_add_tags(self: ELBv2Backend, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
    # Replaces moto's, whose limit was 10 tags already on the resource.
    with control.LOCK:
        for arn in resource_arns:
            self._get_resource_by_arn(arn)
            if too_many(tags, self.tagging_service.get_tag_dict_for_resource(arn)):
                raise TooManyTagsError()
        for arn in resource_arns:
            self.tagging_service.tag_resource(arn, tags)


# ---- ECS ----------------------------------------------------------------------------------

_ECS_MESSAGE = "The maximum number of tags (50) for the resource has been exceeded."


def _ecs_create(self: EC2ContainerServiceResponse) -> None:
    if too_many(self._get_param("tags")):
        raise EcsInvalidParameterException(_ECS_MESSAGE)


def _ecs_tag_resource(self: EC2ContainerServiceResponse) -> None:
    arn = self._get_param("resourceArn")
    backend = self.ecs_backend
    try:
        existing = backend._get_resource(arn, backend._parse_resource_arn(arn)).tags
    except Exception:
        return  # moto's handler answers the unknown resource
    if too_many(self._get_param("tags"), existing):
        raise EcsInvalidParameterException(_ECS_MESSAGE)


# ---- CloudWatch Logs ----------------------------------------------------------------------


def _logs_request_check(tags: Any) -> None:
    if len(user_tag_keys(tags)) > MAX_TAGS:
        shown = "{" + ", ".join(f"{k}={v}" for k, v in (tags or {}).items()) + "}"
        raise LogsInvalidParameterException(
            constraint="Member must have length less than or equal to 50", parameter="tags", value=shown
        )


def _logs_create_log_group(self: LogsResponse) -> None:
    _logs_request_check(self._get_param("tags"))


def _logs_tag_resource(self: LogsResponse) -> None:
    tags = self._get_param("tags")
    _logs_request_check(tags)
    try:
        existing = self.logs_backend.list_tags_for_resource(self._get_param("resourceArn"))
    except Exception:
        return
    if too_many(tags, existing):
        raise LogsClientError("TooManyTagsException", "A resource can have no more than 50 tags.")


def _logs_tag_log_group(self: LogsResponse) -> None:
    # TagLogGroup (deprecated) models no TooManyTagsException: InvalidParameterException.
    tags = self._get_param("tags")
    _logs_request_check(tags)
    group = self.logs_backend.groups.get(self._get_param("logGroupName"))
    if group is not None and too_many(tags, self.logs_backend.list_tags_for_resource(group.arn)):
        raise LogsInvalidParameterException("A resource can have no more than 50 tags.")


# ---- CodeDeploy ---------------------------------------------------------------------------


def _codedeploy_error() -> CodeDeployError:
    return CodeDeployError("TagLimitExceededException", "The maximum allowed number of tags was exceeded.")


def _codedeploy_create(self: CodeDeployResponse) -> None:
    if too_many(self._get_param("tags")):
        raise _codedeploy_error()


def _codedeploy_tag_resource(self: CodeDeployResponse) -> None:
    existing = self.codedeploy_backend.tagger.list_tags_for_resource(self._get_param("ResourceArn"))["Tags"]
    if too_many(self._get_param("Tags"), existing):
        raise _codedeploy_error()


def install() -> None:
    """Install after the other extensions: the guards wrap whatever handler is in place."""
    for operation in ("create_load_balancer", "create_target_group", "create_listener", "create_rule"):
        _guard(ELBV2Response, operation, _elbv2_create)
    ELBv2Backend.add_tags = elbv2_add_tags  # type: ignore[method-assign]

    for operation in ("create_cluster", "create_service", "register_task_definition"):
        _guard(EC2ContainerServiceResponse, operation, _ecs_create)
    _guard(EC2ContainerServiceResponse, "tag_resource", _ecs_tag_resource)

    _guard(LogsResponse, "create_log_group", _logs_create_log_group)
    _guard(LogsResponse, "tag_resource", _logs_tag_resource)
    _guard(LogsResponse, "tag_log_group", _logs_tag_log_group)

    for operation in ("create_application", "create_deployment_group"):
        _guard(CodeDeployResponse, operation, _codedeploy_create)
    _guard(CodeDeployResponse, "tag_resource", _codedeploy_tag_resource)
