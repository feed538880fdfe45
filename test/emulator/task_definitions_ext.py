"""Converge's extension of moto's ECS task definition listings (moto 5.2.x), as prune and destroy use them.

* ListTaskDefinitionFamilies takes `status`: ACTIVE lists only the families with an ACTIVE
  revision, INACTIVE only those without one, ALL (the default) both; a family whose revisions were
  all deleted is no family any more. moto ignored `status` and listed every family it ever saw.
  It pages by `maxResults` (1-100) and `nextToken`, families sorted by name.
* ListTaskDefinitions pages by `maxResults` (1-100) and `nextToken`, sorted by family and
  revision (`sort` ASC or DESC, `familyPrefix` the whole family name, `status` ACTIVE by default,
  as before).
* DescribeTaskDefinition of a family without a revision answers its latest ACTIVE revision, as
  ECS does ("If a family is specified without a revision, the latest ACTIVE revision is used");
  moto answered the latest revision whatever its status (a deregistered one).

Sources: Amazon ECS API reference, ListTaskDefinitionFamilies (status), ListTaskDefinitions,
DescribeTaskDefinition (taskDefinition).
"""

from __future__ import annotations

import base64
import json

from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException, TaskDefinitionNotFoundException
from moto.ecs.models import EC2ContainerServiceBackend, TaskDefinition
from moto.ecs.responses import EC2ContainerServiceResponse

MAX_RESULTS = 100

_original_describe_task_definition = EC2ContainerServiceBackend.describe_task_definition


def _page(items: list[str], max_results: object, next_token: str | None) -> tuple[list[str], str | None]:
    limit = MAX_RESULTS if max_results is None else int(str(max_results))
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidParameterException(f"maxResults must be between 1 and {MAX_RESULTS}.")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except ValueError as exc:
            raise InvalidParameterException("Invalid nextToken.") from exc
    end = start + limit
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


def list_task_definition_families(self: EC2ContainerServiceResponse) -> ActionResult:
    prefix = self._get_param("familyPrefix") or ""
    status = self._get_param("status") or "ALL"
    if status not in ("ACTIVE", "INACTIVE", "ALL"):
        raise InvalidParameterException("status must be ACTIVE, INACTIVE or ALL.")
    families = []
    for family, revisions in self.ecs_backend.task_definitions.items():
        if not family.startswith(prefix) or not revisions:
            continue
        active = any(td.status == "ACTIVE" for td in revisions.values())
        if status == "ALL" or (status == "ACTIVE") == active:
            families.append(family)
    page, token = _page(sorted(families), self._get_param("maxResults"), self._get_param("nextToken"))
    return ActionResult({"families": page, **({"nextToken": token} if token else {})})


def list_task_definitions(self: EC2ContainerServiceResponse) -> ActionResult:
    family_prefix = self._get_param("familyPrefix")
    status = self._get_param("status") or "ACTIVE"
    descending = (self._get_param("sort") or "ASC") == "DESC"
    found: list[TaskDefinition] = [
        td
        for family, revisions in self.ecs_backend.task_definitions.items()
        if family_prefix is None or family == family_prefix
        for td in revisions.values()
        if td.status == status
    ]
    found.sort(key=lambda td: (td.family, td.revision), reverse=descending)
    page, token = _page([td.arn for td in found], self._get_param("maxResults"), self._get_param("nextToken"))
    return ActionResult({"taskDefinitionArns": page, **({"nextToken": token} if token else {})})


def describe_task_definition(self: EC2ContainerServiceBackend, task_definition_str: str) -> TaskDefinition:
    name = task_definition_str.split("/")[-1]
    if ":" in name:
        return _original_describe_task_definition(self, task_definition_str)
    active = [rev for rev, td in self.task_definitions.get(name, {}).items() if td.status == "ACTIVE"]
    if not active:
        raise TaskDefinitionNotFoundException()
    return self.task_definitions[name][max(active)]


def install() -> None:
    EC2ContainerServiceResponse.list_task_definition_families = list_task_definition_families  # type: ignore[method-assign]
    EC2ContainerServiceResponse.list_task_definitions = list_task_definitions  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_task_definition = describe_task_definition  # type: ignore[method-assign]
