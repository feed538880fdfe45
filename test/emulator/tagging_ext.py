"""Converge's extension of moto's Resource Groups Tagging API (moto 5.2.x): GetResources as AWS answers it.

converge reads the tags of a whole environment with one paginated GetResources
(`TagFilters` converge:environment=<env>, `ResourceTypeFilters`, 100 a page). moto's answer
differs from AWS's in ways that matter to it:

* moto covers ACM certificates, ECS clusters/services/tasks/task definitions, EC2 (security groups
  among others), ELBv2 load balancers and target groups and CloudWatch Logs log groups, but not
  CodeDeploy applications and deployment groups nor Application Auto Scaling scalable targets:
  this extension adds them (`arn:aws:codedeploy:<region>:<account>:application:<name>`,
  `...:deploymentgroup:<application>/<group>`, `arn:aws:application-autoscaling:<region>:<account>:scalable-target/<id>`).
  ELBv2 listeners and Route 53 hosted zones are left out, as in moto: converge asks for neither
  (it owns no hosted zone, and reads listener tags with DescribeTags).
* `ResourceTypeFilters` are `service[:resourceType]`, both parts as the ARN spells them
  (`logs:log-group`, `elasticloadbalancing:targetgroup`, `codedeploy:deploymentgroup`): moto knew
  log groups only as `logs:loggroup` and ACM only as `acm`; here every resource's type is taken
  from its ARN and matched as AWS does (a bare service matches all its types).
* `TagFilters`: all filters must match; within one, any of its values; no values: the key with any value.
* Pages: `ResourcesPerPage` 1-100 (moto allowed at most 50 and checked no range), `TagsPerPage`
  100-500 and only when given (moto applied 100 by default, so a page of resources with 8 tags
  held 12 resources; a resource without tags counts as one tag; a resource is never split). The
  last page's `PaginationToken` is `""`, as AWS answers. Tokens are stateless (the offset and the
  query), so a token can be used again; one of another query is refused.
* `ResourceARNList` (at most 100) answers those resources; it cannot be combined with
  `TagFilters`, `ResourceTypeFilters` or the pagination parameters (`InvalidParameterException`).
* At most 50 tag filters of at most 20 values each, and at most 100 resource type filters.

Order: by ARN, so pages are stable. Errors are `InvalidParameterException` as the SDK names it.

Sources: Resource Groups Tagging API reference, GetResources (parameters, limits, the "can't
specify both" rules, TagFilters semantics) and "Services that support the Resource Groups Tagging API".
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Iterator

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.codedeploy.models import codedeploy_backends
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.models import resourcegroupstaggingapi_backends
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

MAX_RESOURCES_PER_PAGE = 100
DEFAULT_RESOURCES_PER_PAGE = 100
MIN_TAGS_PER_PAGE, MAX_TAGS_PER_PAGE = 100, 500
MAX_TAG_FILTERS, MAX_TAG_VALUES = 50, 20
MAX_TYPE_FILTERS = 100
MAX_ARN_LIST = 100

# AWS's service names in ResourceTypeFilters -> the filters moto's generator understands.
_MOTO_FILTERS = {
    "acm": ["acm"],
    "logs": ["logs"],
    "ecs": ["ecs:service", "ecs:cluster", "ecs:task", "ecs:task-definition"],
    "ec2": ["ec2"],
    "elasticloadbalancing": ["elasticloadbalancing"],
}
# Services this extension answers itself.
_OWN_SERVICES = ("codedeploy", "application-autoscaling")


def _invalid(message: str) -> ResourceGroupsTaggingAPIError:
    return ResourceGroupsTaggingAPIError("InvalidParameterException", message)


def arn_type(arn: str) -> str | None:
    """`service:resourceType` of an ARN, as ResourceTypeFilters name it."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    resource = ":".join(parts[5:])
    kind = ""
    for ch in resource:
        if ch in "/:":
            break
        kind += ch
    return f"{parts[2]}:{kind}" if parts[2] and kind else None


def _type_matches(arn: str, filters: list[str]) -> bool:
    if not filters:
        return True
    kind = arn_type(arn)
    if kind is None:
        return False
    service = kind.split(":", 1)[0]
    return any(f == kind or f == service for f in filters)


def _tags_match(tags: list[dict[str, str]], tag_filters: list[dict[str, Any]]) -> bool:
    values_by_key: dict[str, set[str]] = {}
    for tag in tags:
        values_by_key.setdefault(tag["Key"], set()).add(tag.get("Value", ""))
    for f in tag_filters:
        key = f.get("Key")
        if key not in values_by_key:
            return False
        wanted = f.get("Values") or []
        if wanted and not values_by_key[key] & set(wanted):
            return False
    return True


def _as_tag_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return [{"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value", ""))} for t in tags or []]


def _moto_resources(account: str, region: str, type_filters: list[str]) -> Iterator[dict[str, Any]]:
    """What moto's own generator knows, asked with the filters it understands."""
    moto_filters: list[str] | None
    if type_filters:
        services = {f.split(":", 1)[0] for f in type_filters}
        moto_filters = [m for s in services for m in _MOTO_FILTERS.get(s, [s])]
        if not moto_filters:
            return
    else:
        moto_filters = None
    backend = resourcegroupstaggingapi_backends[account][region]
    yield from backend._get_resources_generator(tag_filters=[], resource_type_filters=moto_filters)


def _own_resources(account: str, region: str, type_filters: list[str]) -> Iterator[dict[str, Any]]:
    """CodeDeploy applications and deployment groups, Application Auto Scaling scalable targets."""
    services = {f.split(":", 1)[0] for f in type_filters} if type_filters else set(_OWN_SERVICES)
    if "codedeploy" in services:
        cd = codedeploy_backends[account][region]
        for name in cd.applications:
            arn = f"arn:aws:codedeploy:{region}:{account}:application:{name}"
            yield {"ResourceARN": arn, "Tags": _as_tag_list(cd.tagger.list_tags_for_resource(arn)["Tags"])}
        for app, groups in cd.deployment_groups.items():
            for group in groups:
                arn = f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{app}/{group}"
                yield {"ResourceARN": arn, "Tags": _as_tag_list(cd.tagger.list_tags_for_resource(arn)["Tags"])}
    if "application-autoscaling" in services:
        aas = applicationautoscaling_backends[account][region]
        for targets in aas.targets.values():
            for target in targets.values():
                yield {"ResourceARN": target.arn, "Tags": _as_tag_list(getattr(target, "converge_tags", {}))}


def _all_resources(account: str, region: str, type_filters: list[str]) -> list[dict[str, Any]]:
    found: dict[str, list[dict[str, str]]] = {}
    for item in [*_moto_resources(account, region, type_filters), *_own_resources(account, region, type_filters)]:
        arn = item["ResourceARN"]
        tags = _as_tag_list(item.get("Tags"))
        # GetResources answers resources that are or were tagged; untagged ones never match a tag filter anyway.
        if not tags or not _type_matches(arn, type_filters):
            continue
        found[arn] = tags
    return [{"ResourceARN": arn, "Tags": found[arn]} for arn in sorted(found)]


def _query_hash(tag_filters: list[dict[str, Any]], type_filters: list[str]) -> str:
    return hashlib.sha256(json.dumps([tag_filters, sorted(type_filters)], sort_keys=True).encode()).hexdigest()[:16]


def _token(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": query}).encode()).decode()


def _offset_of(token: str, query: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        offset, of_query = int(decoded["o"]), decoded["q"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid("The specified PaginationToken is not valid.") from exc
    if of_query != query:
        raise _invalid("The PaginationToken belongs to another request: send the same filters with it.")
    return offset


def get_resources(self: ResourceGroupsTaggingAPIResponse) -> str:
    token = self._get_param("PaginationToken")
    tag_filters = self._get_param("TagFilters") or []
    type_filters = self._get_param("ResourceTypeFilters") or []
    arn_list = self._get_param("ResourceARNList")
    per_page = self._get_param("ResourcesPerPage")
    tags_per_page = self._get_param("TagsPerPage")

    if arn_list is not None:
        if tag_filters or type_filters:
            raise _invalid("You can't specify ResourceARNList together with TagFilters or ResourceTypeFilters.")
        if token or per_page is not None or tags_per_page is not None:
            raise _invalid("You can't specify ResourceARNList together with PaginationToken, ResourcesPerPage or TagsPerPage.")
        if not 1 <= len(arn_list) <= MAX_ARN_LIST:
            raise _invalid(f"ResourceARNList must hold 1 to {MAX_ARN_LIST} ARNs.")
        wanted = set(arn_list)
        everything = _all_resources(self.current_account, self.region, [])
        return json.dumps({"ResourceTagMappingList": [r for r in everything if r["ResourceARN"] in wanted], "PaginationToken": ""})

    if per_page is not None and not 1 <= int(per_page) <= MAX_RESOURCES_PER_PAGE:
        raise _invalid(f"ResourcesPerPage must be between 1 and {MAX_RESOURCES_PER_PAGE}.")
    if tags_per_page is not None and not MIN_TAGS_PER_PAGE <= int(tags_per_page) <= MAX_TAGS_PER_PAGE:
        raise _invalid(f"TagsPerPage must be between {MIN_TAGS_PER_PAGE} and {MAX_TAGS_PER_PAGE}.")
    if len(tag_filters) > MAX_TAG_FILTERS:
        raise _invalid(f"TagFilters can hold at most {MAX_TAG_FILTERS} keys.")
    for f in tag_filters:
        if not f.get("Key"):
            raise _invalid("Each TagFilter needs a Key.")
        if len(f.get("Values") or []) > MAX_TAG_VALUES:
            raise _invalid(f"A TagFilter can hold at most {MAX_TAG_VALUES} values.")
    if len(type_filters) > MAX_TYPE_FILTERS:
        raise _invalid(f"ResourceTypeFilters can hold at most {MAX_TYPE_FILTERS} entries.")
    for f in type_filters:
        if not f or f.count(":") > 1 or f.startswith(":") or f.endswith(":"):
            raise _invalid(f"ResourceTypeFilters: {f!r} is not of the form service[:resourceType].")

    query = _query_hash(tag_filters, type_filters)
    offset = _offset_of(token, query) if token else 0
    matching = [r for r in _all_resources(self.current_account, self.region, type_filters) if _tags_match(r["Tags"], tag_filters)]
    limit = int(per_page) if per_page is not None else DEFAULT_RESOURCES_PER_PAGE
    page: list[dict[str, Any]] = []
    tags_on_page = 0
    position = offset
    while position < len(matching) and len(page) < limit:
        weight = max(1, len(matching[position]["Tags"]))
        if tags_per_page is not None and page and tags_on_page + weight > int(tags_per_page):
            break
        page.append(matching[position])
        tags_on_page += weight
        position += 1
    next_token = _token(position, query) if position < len(matching) else ""
    return json.dumps({"ResourceTagMappingList": page, "PaginationToken": next_token})


def install() -> None:
    ResourceGroupsTaggingAPIResponse.get_resources = get_resources  # type: ignore[method-assign]
