"""Converge's extensions of moto's CodeDeploy (moto 5.2.x).

moto's CodeDeploy stores applications, deployment groups and deployments, but nothing more:
deployments stay `Created` forever, times are ISO strings (the JavaScript SDK wants epoch
numbers for `Timestamp` members of this JSON protocol), and many operations are missing.

`install()` patches `CodeDeployBackend` and `CodeDeployResponse` in place:

* every answer goes through moto's model-driven serializer (`ActionResult`), so shapes follow
  the botocore model and timestamps are epoch seconds;
* added operations: BatchGetDeploymentGroups, UpdateDeploymentGroup, DeleteDeploymentGroup,
  DeleteApplication, StopDeployment, ContinueDeployment, ListDeploymentTargets,
  GetDeploymentConfig (predefined configurations, and custom ones CreateDeploymentConfig made);
  CreateDeploymentConfig (ECS traffic routing);
* one active deployment per deployment group (DeploymentLimitExceededException);
* deployments progress one step each time they are read (GetDeployment, BatchGetDeployments,
  ListDeployments): Created -> InProgress -> Succeeded/Failed. The number of reads is
  `control.STATE.deploy_steps` (env CONVERGE_EMULATOR_DEPLOY_STEPS, default 2; 0 finishes the
  deployment inside CreateDeployment). moto's state manager is NOT used: a deployment's end
  has side effects (ECS, ELBv2) and failure injection, which its status-only model can't carry;
* ECS blue/green on success: the AppSpec's task definition and the other target group of the
  pair go to the ECS service, and the production listener gets a weighted forward
  (new target group 100, old 0), as CodeDeploy does since 2022;
* failure injection (`/converge-emulator/codedeploy/fail-next`) and automatic rollback records.
"""

from __future__ import annotations

import copy
import json
import random
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import yaml
from moto.codedeploy.models import Application, CodeDeployBackend, DeploymentGroup
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

import control

ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
ALL_STATUSES = ACTIVE_STATUSES + TERMINAL_STATUSES

BATCH_GET_DEPLOYMENTS_LIMIT = 25
BATCH_GET_DEPLOYMENT_GROUPS_LIMIT = 100
LIST_PAGE_SIZE = 100

DEPLOYMENT_ID_ALPHABET = string.ascii_uppercase + string.digits


class CodeDeployError(ServiceException):
    """A CodeDeploy error; `code` must be an exception shape of the botocore model."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _new_deployment_id() -> str:
    # Real ids look like d-ABCDEF123 (nine upper-case letters and digits).
    return "d-" + "".join(random.choices(DEPLOYMENT_ID_ALPHABET, k=9))


def _is_deployment_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 11
        and value.startswith("d-")
        and all(c in DEPLOYMENT_ID_ALPHABET for c in value[2:])
    )


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# --------------------------------------------------------------------------------------
# Predefined deployment configurations (GetDeploymentConfig)
# --------------------------------------------------------------------------------------

_CONFIG_CREATE_TIME = datetime(2014, 11, 12, tzinfo=timezone.utc)


def _config(name: str, platform: str, **extra: Any) -> dict[str, Any]:
    return {
        "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "deploymentConfigName": name,
        "createTime": _CONFIG_CREATE_TIME,
        "computePlatform": platform,
        **extra,
    }


def _linear(pct: int, minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": pct, "linearInterval": minutes},
    }


def _canary(pct: int, minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": pct, "canaryInterval": minutes},
    }


PREDEFINED_CONFIGS: dict[str, dict[str, Any]] = {
    c["deploymentConfigName"]: c
    for c in [
        _config(
            "CodeDeployDefault.OneAtATime",
            "Server",
            minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 99},
        ),
        _config(
            "CodeDeployDefault.HalfAtATime",
            "Server",
            minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 50},
        ),
        _config(
            "CodeDeployDefault.AllAtOnce",
            "Server",
            minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 0},
        ),
        _config(
            "CodeDeployDefault.ECSAllAtOnce",
            "ECS",
            trafficRoutingConfig={"type": "AllAtOnce"},
        ),
        _config(
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            "ECS",
            trafficRoutingConfig=_linear(10, 1),
        ),
        _config(
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            "ECS",
            trafficRoutingConfig=_linear(10, 3),
        ),
        _config(
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            "ECS",
            trafficRoutingConfig=_canary(10, 5),
        ),
        _config(
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            "ECS",
            trafficRoutingConfig=_canary(10, 15),
        ),
        _config(
            "CodeDeployDefault.LambdaAllAtOnce",
            "Lambda",
            trafficRoutingConfig={"type": "AllAtOnce"},
        ),
        _config(
            "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "Lambda",
            trafficRoutingConfig=_canary(10, 5),
        ),
        _config(
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            "Lambda",
            trafficRoutingConfig=_linear(10, 1),
        ),
    ]
}

# Used when neither the deployment nor its group names a configuration.
DEFAULT_CONFIG_BY_PLATFORM = {
    "Server": "CodeDeployDefault.OneAtATime",
    "ECS": "CodeDeployDefault.ECSAllAtOnce",
    "Lambda": "CodeDeployDefault.LambdaAllAtOnce",
}


def _check_config_name(name: str | None, platform: str) -> str:
    if not name:
        return DEFAULT_CONFIG_BY_PLATFORM.get(platform, "CodeDeployDefault.OneAtATime")
    name = str(name)
    config = PREDEFINED_CONFIGS.get(name)
    if config is None:
        raise CodeDeployError(
            "DeploymentConfigDoesNotExistException",
            f"The deployment configuration {name} does not exist with the user or AWS account.",
        )
    if config["computePlatform"] != platform:
        raise CodeDeployError(
            "InvalidDeploymentConfigNameException",
            f"Deployment config {name} is for the {config['computePlatform']} compute platform, "
            f"not {platform}.",
        )
    return name


# --------------------------------------------------------------------------------------
# The deployment model
# --------------------------------------------------------------------------------------


class PlanError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class EcsPlan:
    """What a successful ECS blue/green deployment changes."""

    cluster: str
    service: str
    task_definition_arn: str
    container_name: str
    container_port: int
    platform_version: str | None
    network_configuration: dict[str, Any] | None
    old_target_group_arn: str
    new_target_group_arn: str
    prod_listener_arn: str
    test_listener_arn: str | None


class Deployment:
    def __init__(
        self,
        backend: CodeDeployBackend,
        group: DeploymentGroup,
        revision: dict[str, Any] | None,
        config_name: str,
        description: str | None,
        creator: str,
        steps: int,
        auto_rollback_configuration: dict[str, Any] | None = None,
        ignore_application_stop_failures: bool | None = None,
        file_exists_behavior: str | None = None,
        override_alarm_configuration: dict[str, Any] | None = None,
        target_instances: dict[str, Any] | None = None,
        update_outdated_instances_only: bool | None = None,
    ):
        self.account_id = backend.account_id
        self.region_name = backend.region_name
        self.deployment_id = _new_deployment_id()
        while self.deployment_id in backend.deployments:
            self.deployment_id = _new_deployment_id()
        self.group = group
        self.application_name = group.application.application_name
        self.deployment_group_name = group.deployment_group_name
        self.compute_platform = group.application.compute_platform
        self.revision = copy.deepcopy(revision)
        self.previous_revision = copy.deepcopy(_group_ext(group).get("target_revision"))
        self.deployment_config_name = config_name
        self.description = description
        self.creator = creator
        self.status = "Created"
        self.create_time = _now()
        self.start_time: datetime | None = None
        self.complete_time: datetime | None = None
        self.error_information: dict[str, str] | None = None
        self.rollback_info: dict[str, str] | None = None
        self.remaining_steps = steps
        self.injected_failure: control.InjectedFailure | None = None
        self.plan: EcsPlan | None = None
        self.deployment_style = copy.deepcopy(group.deployment_style) or None
        self.blue_green = copy.deepcopy(group.blue_green_deployment_configuration) or None
        self.load_balancer_info = copy.deepcopy(group.load_balancer_info) or None
        self.ecs_services = copy.deepcopy(group.ecs_services)
        self.auto_rollback_configuration = copy.deepcopy(
            auto_rollback_configuration or group.auto_rollback_configuration or None
        )
        self.ignore_application_stop_failures = bool(ignore_application_stop_failures)
        self.file_exists_behavior = file_exists_behavior
        self.override_alarm_configuration = override_alarm_configuration
        self.target_instances = target_instances
        self.update_outdated_instances_only = bool(update_outdated_instances_only)
        self.status_messages: list[str] = []
        self.last_updated = self.create_time

    # -- views --------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def overview(self) -> dict[str, int]:
        counts = dict.fromkeys(
            ["Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready"], 0
        )
        if self.compute_platform == "ECS" or self.ecs_services:
            # One target: the ECS service.
            key = {
                "Created": "Pending",
                "Queued": "Pending",
                "InProgress": "InProgress",
                "Baking": "InProgress",
                "Ready": "Ready",
                "Succeeded": "Succeeded",
                "Failed": "Failed",
                "Stopped": "Failed",
            }[self.status]
            counts[key] = 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "applicationName": self.application_name,
                "deploymentGroupName": self.deployment_group_name,
                "deploymentConfigName": self.deployment_config_name,
                "deploymentId": self.deployment_id,
                "previousRevision": self.previous_revision,
                "revision": self.revision,
                "status": self.status,
                "errorInformation": self.error_information,
                "createTime": self.create_time,
                "startTime": self.start_time,
                "completeTime": self.complete_time,
                "deploymentOverview": self.overview(),
                "description": self.description,
                "creator": self.creator,
                "ignoreApplicationStopFailures": self.ignore_application_stop_failures,
                "autoRollbackConfiguration": self.auto_rollback_configuration,
                "updateOutdatedInstancesOnly": self.update_outdated_instances_only,
                "rollbackInfo": self.rollback_info,
                "deploymentStyle": self.deployment_style,
                "targetInstances": self.target_instances,
                "instanceTerminationWaitTimeStarted": False,
                "blueGreenDeploymentConfiguration": self.blue_green,
                "loadBalancerInfo": self.load_balancer_info,
                "fileExistsBehavior": self.file_exists_behavior,
                "deploymentStatusMessages": self.status_messages,
                "computePlatform": self.compute_platform,
                "overrideAlarmConfiguration": self.override_alarm_configuration,
            }
        )

    def target_id(self) -> str | None:
        if not self.ecs_services:
            return None
        svc = self.ecs_services[0]
        return f"{svc.get('clusterName')}:{svc.get('serviceName')}"

    def waits_for_ready(self) -> bool:
        option = (self.blue_green or {}).get("deploymentReadyOption") or {}
        return option.get("actionOnTimeout") == "STOP_DEPLOYMENT"


# Extra per-group state (last deployments, target revision) is kept in a dict attribute so
# moto's DeploymentGroup class stays untouched.
def _group_ext(group: DeploymentGroup) -> dict[str, Any]:
    ext = getattr(group, "_converge", None)
    if ext is None:
        ext = {"last_attempted": None, "last_successful": None, "target_revision": None}
        group._converge = ext  # type: ignore[attr-defined]
    return ext


# --------------------------------------------------------------------------------------
# Progression
# --------------------------------------------------------------------------------------


def _advance(backend: CodeDeployBackend, d: Deployment) -> None:
    """One step of a deployment, run each time it is read."""
    if not d.active or d.status == "Ready":
        return
    if d.status in ("Created", "Queued"):
        if not _start(backend, d):
            return
        if d.status == "Ready":
            return
    d.remaining_steps -= 1
    if d.remaining_steps <= 0:
        _finish(backend, d)
    else:
        d.status = "InProgress"
        d.last_updated = _now()


def _run_to_end(backend: CodeDeployBackend, d: Deployment) -> None:
    """Finish a deployment now (deploySteps=0, or the settle control endpoint).

    A deployment that waits for ContinueDeployment stays Ready."""
    if d.status in ("Created", "Queued"):
        if not _start(backend, d) or d.status == "Ready":
            return
    if d.status in ("InProgress", "Baking"):
        d.remaining_steps = 0
        _finish(backend, d)


def _start(backend: CodeDeployBackend, d: Deployment) -> bool:
    """Created -> InProgress (or Ready). Validates what the deployment will change."""
    d.start_time = _now()
    d.last_updated = d.start_time
    d.status = "InProgress"
    if d.compute_platform == "ECS":
        try:
            d.plan = _plan_ecs(d)
        except PlanError as err:
            _end_failed(backend, d, err.code, err.message)
            return False
        if d.waits_for_ready():
            d.status = "Ready"
    return True


def _finish(backend: CodeDeployBackend, d: Deployment) -> None:
    if d.injected_failure is not None:
        failure, d.injected_failure = d.injected_failure, None
        _end_failed(backend, d, failure.code, failure.message)
        return
    if d.plan is not None:
        try:
            _apply_ecs(d.plan, d)
        except PlanError as err:
            _end_failed(backend, d, err.code, err.message)
            return
    d.status = "Succeeded"
    d.complete_time = _now()
    d.last_updated = d.complete_time
    ext = _group_ext(d.group)
    ext["last_successful"] = d.deployment_id
    if d.creator != "codeDeployRollback":
        ext["target_revision"] = copy.deepcopy(d.revision)


def _end_failed(backend: CodeDeployBackend, d: Deployment, code: str, message: str) -> None:
    d.status = "Failed"
    d.error_information = {"code": code, "message": message}
    d.complete_time = _now()
    d.last_updated = d.complete_time
    if _rollback_enabled(d, "DEPLOYMENT_FAILURE"):
        _roll_back(backend, d, f"Deployment {d.deployment_id} failed")


def _rollback_enabled(d: Deployment, event: str) -> bool:
    config = d.auto_rollback_configuration or {}
    return bool(config.get("enabled")) and event in (config.get("events") or [])


def _roll_back(backend: CodeDeployBackend, d: Deployment, reason: str) -> None:
    """Record the rollback deployment CodeDeploy creates.

    The emulator only changes ECS and the listeners when a deployment succeeds, so the
    original task set is still serving and the rollback has nothing to undo: it is recorded
    as an immediately Succeeded deployment created by `codeDeployRollback`."""
    rollback = Deployment(
        backend,
        d.group,
        revision=d.previous_revision or d.revision,
        config_name=d.deployment_config_name,
        description=None,
        creator="codeDeployRollback",
        steps=0,
    )
    rollback.previous_revision = copy.deepcopy(d.revision)
    rollback.status = "Succeeded"
    rollback.start_time = rollback.complete_time = _now()
    rollback.rollback_info = {
        "rollbackTriggeringDeploymentId": d.deployment_id,
        "rollbackMessage": f"Deployment {rollback.deployment_id} is a rollback of {d.deployment_id}.",
    }
    backend.deployments[rollback.deployment_id] = rollback
    d.rollback_info = {
        "rollbackDeploymentId": rollback.deployment_id,
        "rollbackMessage": f"{reason} and was rolled back by deployment {rollback.deployment_id}.",
    }
    _group_ext(d.group)["last_attempted"] = rollback.deployment_id
    _group_ext(d.group)["last_successful"] = rollback.deployment_id


# --------------------------------------------------------------------------------------
# ECS blue/green: plan (at start) and apply (at success)
# --------------------------------------------------------------------------------------


def _load_appspec(d: Deployment) -> dict[str, Any]:
    revision = d.revision or {}
    rtype = revision.get("revisionType")
    if rtype == "AppSpecContent":
        content = (revision.get("appSpecContent") or {}).get("content")
    elif rtype == "String":
        content = (revision.get("string") or {}).get("content")
    elif rtype == "S3":
        content = _read_s3_revision(d, revision.get("s3Location") or {})
    else:
        raise PlanError(
            "INVALID_REVISION",
            f"The emulator cannot read revisions of type {rtype!r} for ECS deployments; "
            "use AppSpecContent or S3 (YAML/JSON bundle).",
        )
    if not content:
        raise PlanError("INVALID_REVISION", "The AppSpec file is empty.")
    try:
        parsed = json.loads(content)
    except ValueError:
        try:
            parsed = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            raise PlanError("INVALID_REVISION", f"The AppSpec file is not valid YAML or JSON: {exc}")
    if not isinstance(parsed, dict):
        raise PlanError("INVALID_REVISION", "The AppSpec file must be a mapping.")
    return parsed


def _read_s3_revision(d: Deployment, location: dict[str, Any]) -> str:
    from moto.s3.models import s3_backends

    try:
        key = s3_backends[d.account_id]["aws"].get_object(
            location.get("bucket"), location.get("key")
        )
    except Exception as exc:  # moto raises several kinds of not-found errors
        raise PlanError("REVISION_MISSING", f"The revision could not be read from S3: {exc}")
    if key is None:
        raise PlanError("REVISION_MISSING", "The revision does not exist in S3.")
    return key.value.decode("utf-8")


def _plan_ecs(d: Deployment) -> EcsPlan:
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends

    appspec = _load_appspec(d)
    if str(appspec.get("version")) not in ("0.0", "0"):
        raise PlanError("INVALID_REVISION", "The AppSpec version must be 0.0.")
    resources = appspec.get("Resources") or []
    target = None
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, dict):
            for value in resource.values():
                if isinstance(value, dict) and value.get("Type") == "AWS::ECS::Service":
                    target = value
                    break
        if target:
            break
    if target is None:
        raise PlanError(
            "INVALID_REVISION", "The AppSpec file has no resource of type AWS::ECS::Service."
        )
    props = target.get("Properties") or {}
    task_definition = props.get("TaskDefinition")
    lb_info = props.get("LoadBalancerInfo") or {}
    container_name = lb_info.get("ContainerName")
    container_port = lb_info.get("ContainerPort")
    if not task_definition or not container_name or container_port is None:
        raise PlanError(
            "INVALID_REVISION",
            "The AppSpec TargetService needs Properties.TaskDefinition and "
            "Properties.LoadBalancerInfo.ContainerName/ContainerPort.",
        )
    try:
        container_port = int(container_port)
    except (TypeError, ValueError):
        raise PlanError("INVALID_REVISION", "LoadBalancerInfo.ContainerPort must be a number.")

    ecs = ecs_backends[d.account_id][d.region_name]
    if not d.ecs_services:
        raise PlanError("INVALID_ECS_SERVICE", "The deployment group has no ECS service.")
    cluster = d.ecs_services[0].get("clusterName")
    service_name = d.ecs_services[0].get("serviceName")
    try:
        service = ecs._get_service(cluster, service_name)
    except Exception:
        raise PlanError(
            "INVALID_ECS_SERVICE",
            f"The ECS service {service_name} in cluster {cluster} cannot be found.",
        )
    if service.status != "ACTIVE":
        raise PlanError("INVALID_ECS_SERVICE", f"The ECS service {service_name} is not ACTIVE.")
    if (service.deployment_controller or {}).get("type") != "CODE_DEPLOY":
        raise PlanError(
            "INVALID_ECS_SERVICE",
            f"The ECS service {service_name} does not use the CODE_DEPLOY deployment controller.",
        )
    try:
        task_def = ecs.describe_task_definition(task_definition)
    except Exception:
        raise PlanError(
            "INVALID_REVISION", f"The task definition {task_definition} cannot be found."
        )
    names = [c.get("name") for c in task_def.container_definitions or []]
    if container_name not in names:
        raise PlanError(
            "INVALID_REVISION",
            f"The container {container_name} is not defined in task definition {task_def.arn}.",
        )

    pairs = (d.load_balancer_info or {}).get("targetGroupPairInfoList") or []
    if not pairs:
        raise PlanError(
            "MISSING_ELB_INFORMATION", "The deployment group has no target group pair."
        )
    pair = pairs[0]
    tg_names = [tg.get("name") for tg in pair.get("targetGroups") or []]
    prod_listeners = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
    test_listeners = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
    if len(tg_names) != 2 or not prod_listeners:
        raise PlanError(
            "MISSING_ELB_INFORMATION",
            "The target group pair needs two target groups and a production listener.",
        )
    elbv2 = elbv2_backends[d.account_id][d.region_name]
    by_name = {tg.name: tg for tg in elbv2.target_groups.values()}
    missing = [n for n in tg_names if n not in by_name]
    if missing:
        raise PlanError(
            "ELASTIC_LOAD_BALANCING_INVALID",
            f"The target group(s) {', '.join(missing)} cannot be found.",
        )
    pair_arns = [by_name[n].arn for n in tg_names]
    prod = _find_listener(elbv2, prod_listeners[0])
    if prod is None:
        raise PlanError(
            "ELASTIC_LOAD_BALANCING_INVALID",
            f"The production listener {prod_listeners[0]} cannot be found.",
        )
    if test_listeners and _find_listener(elbv2, test_listeners[0]) is None:
        raise PlanError(
            "ELASTIC_LOAD_BALANCING_INVALID",
            f"The test listener {test_listeners[0]} cannot be found.",
        )

    # The original ("blue") target group is the one production traffic goes to now; before
    # the first deployment that is the one the service was created with.
    old = _serving_target_group(prod, pair_arns)
    if old is None:
        for lb in service.load_balancers or []:
            if lb.get("targetGroupArn") in pair_arns:
                old = lb["targetGroupArn"]
                break
    if old is None:
        raise PlanError(
            "ELASTIC_LOAD_BALANCING_INVALID",
            "Neither the production listener nor the ECS service uses a target group of the pair.",
        )
    new = pair_arns[1] if old == pair_arns[0] else pair_arns[0]

    network = props.get("NetworkConfiguration")
    network_configuration = None
    if isinstance(network, dict) and network.get("AwsvpcConfiguration"):
        vpc = network["AwsvpcConfiguration"]
        network_configuration = {
            "awsvpcConfiguration": _drop_none(
                {
                    "subnets": vpc.get("Subnets") or [],
                    "securityGroups": vpc.get("SecurityGroups"),
                    "assignPublicIp": vpc.get("AssignPublicIp"),
                }
            )
        }
    return EcsPlan(
        cluster=cluster,
        service=service_name,
        task_definition_arn=task_def.arn,
        container_name=container_name,
        container_port=container_port,
        platform_version=props.get("PlatformVersion"),
        network_configuration=network_configuration,
        old_target_group_arn=old,
        new_target_group_arn=new,
        prod_listener_arn=prod.arn,
        test_listener_arn=test_listeners[0] if test_listeners else None,
    )


def _find_listener(elbv2: Any, arn: str) -> Any:
    for lb in elbv2.load_balancers.values():
        if arn in lb.listeners:
            return lb.listeners[arn]
    return None


def _serving_target_group(listener: Any, candidates: list[str]) -> str | None:
    best: tuple[int, str] | None = None
    for action in listener.default_actions:
        data = action.data
        if data.get("Type") != "forward":
            continue
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            for tg in groups:
                weight = int(tg.get("Weight", 1))
                if tg.get("TargetGroupArn") in candidates and (best is None or weight > best[0]):
                    best = (weight, tg["TargetGroupArn"])
        elif data.get("TargetGroupArn") in candidates:
            return data["TargetGroupArn"]
    return best[1] if best else None


def _apply_ecs(plan: EcsPlan, d: Deployment) -> None:
    """Make ECS and ELBv2 look like they do after a successful blue/green deployment."""
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import FakeAction, elbv2_backends

    ecs = ecs_backends[d.account_id][d.region_name]
    elbv2 = elbv2_backends[d.account_id][d.region_name]
    try:
        service = ecs._get_service(plan.cluster, plan.service)
    except Exception:
        raise PlanError("INVALID_ECS_SERVICE", f"The ECS service {plan.service} is gone.")
    prod = _find_listener(elbv2, plan.prod_listener_arn)
    if prod is None or plan.new_target_group_arn not in elbv2.target_groups:
        raise PlanError(
            "ELASTIC_LOAD_BALANCING_INVALID", "The listener or target group is gone."
        )

    service.task_definition = plan.task_definition_arn
    service.load_balancers = [
        {
            "targetGroupArn": plan.new_target_group_arn,
            "containerName": plan.container_name,
            "containerPort": plan.container_port,
        }
    ]
    if plan.platform_version:
        service.platform_version = plan.platform_version
    if plan.network_configuration:
        service.network_configuration = plan.network_configuration
    service.events.insert(
        0,
        {
            "id": str(uuid.uuid4()),
            "createdAt": _now(),
            "message": f"(service {service.name}) updated by CodeDeploy deployment {d.deployment_id}.",
        },
    )

    # Production listener: weighted forward, new target group 100, old 0.
    weighted = FakeAction(
        {
            "Type": "forward",
            "Order": 1,
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": plan.new_target_group_arn, "Weight": 100},
                    {"TargetGroupArn": plan.old_target_group_arn, "Weight": 0},
                ]
            },
        }
    )
    _set_default_actions(prod, [weighted])
    # Test listener: routes to the new (now production) target group as well.
    if plan.test_listener_arn:
        test = _find_listener(elbv2, plan.test_listener_arn)
        if test is not None:
            forward = FakeAction(
                {
                    "Type": "forward",
                    "Order": 1,
                    "TargetGroupArn": plan.new_target_group_arn,
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": plan.new_target_group_arn, "Weight": 1}
                        ]
                    },
                }
            )
            _set_default_actions(test, [forward])
    new_tg = elbv2.target_groups[plan.new_target_group_arn]
    if prod.load_balancer_arn not in new_tg.load_balancer_arns:
        new_tg.load_balancer_arns.append(prod.load_balancer_arn)


def _set_default_actions(listener: Any, actions: list[Any]) -> None:
    listener.default_actions = actions
    listener._default_rule[0].actions = actions


# --------------------------------------------------------------------------------------
# Serialisation helpers
# --------------------------------------------------------------------------------------


def _application_info(app: Application) -> dict[str, Any]:
    created = getattr(app, "_converge_create_time", None)
    if created is None:
        created = _now()
        app._converge_create_time = created  # type: ignore[attr-defined]
    return {
        "applicationId": app.id,
        "applicationName": app.application_name,
        "createTime": created,
        "linkedToGitHub": False,
        "computePlatform": app.compute_platform,
    }


def _last_info(backend: CodeDeployBackend, deployment_id: str | None) -> dict[str, Any] | None:
    d = backend.deployments.get(deployment_id) if deployment_id else None
    if not isinstance(d, Deployment):
        return None
    return _drop_none(
        {
            "deploymentId": d.deployment_id,
            "status": d.status,
            "endTime": d.complete_time,
            "createTime": d.create_time,
        }
    )


def _group_info(backend: CodeDeployBackend, dg: DeploymentGroup) -> dict[str, Any]:
    ext = _group_ext(dg)
    alarm = dg.alarm_configuration
    if alarm is not None and not isinstance(alarm, dict):
        alarm = {
            "alarms": alarm.alarms,
            "enabled": bool(alarm.enabled),
            "ignorePollAlarmFailure": alarm.ignore_poll_alarm_failure,
        }
    return _drop_none(
        {
            "applicationName": dg.application.application_name,
            "deploymentGroupId": dg.deployment_group_id,
            "deploymentGroupName": dg.deployment_group_name,
            "deploymentConfigName": str(dg.deployment_config_name),
            "ec2TagFilters": dg.ec2_tag_filters,
            "onPremisesInstanceTagFilters": dg.on_premises_instance_tag_filters,
            "autoScalingGroups": [{"name": n} for n in dg.auto_scaling_groups],
            "serviceRoleArn": dg.service_role_arn,
            "targetRevision": ext["target_revision"],
            "triggerConfigurations": dg.trigger_configurations,
            "alarmConfiguration": alarm
            or {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []},
            "autoRollbackConfiguration": dg.auto_rollback_configuration or None,
            "deploymentStyle": dg.deployment_style or None,
            "outdatedInstancesStrategy": dg.outdated_instances_strategy,
            "blueGreenDeploymentConfiguration": dg.blue_green_deployment_configuration or None,
            "loadBalancerInfo": dg.load_balancer_info or None,
            "lastSuccessfulDeployment": _last_info(backend, ext["last_successful"]),
            "lastAttemptedDeployment": _last_info(backend, ext["last_attempted"]),
            "ec2TagSet": dg.ec2_tag_set or None,
            "onPremisesTagSet": dg.on_premises_tag_set or None,
            "computePlatform": dg.application.compute_platform,
            "ecsServices": dg.ecs_services,
            "terminationHookEnabled": bool(dg.termination_hook_enabled),
        }
    )


# --------------------------------------------------------------------------------------
# Backend methods (installed on CodeDeployBackend)
# --------------------------------------------------------------------------------------


def _require_application(self: CodeDeployBackend, name: str | None) -> Application:
    if not name:
        raise CodeDeployError(
            "ApplicationNameRequiredException", "The minimum number of required application names was not specified."
        )
    app = self.applications.get(name)
    if app is None:
        raise CodeDeployError(
            "ApplicationDoesNotExistException",
            f"The application {name} does not exist with the user or AWS account.",
        )
    return app


def _require_group(self: CodeDeployBackend, app_name: str | None, group_name: str | None) -> DeploymentGroup:
    _require_application(self, app_name)
    if not group_name:
        raise CodeDeployError(
            "DeploymentGroupNameRequiredException", "The deployment group name was not specified."
        )
    group = self.deployment_groups.get(app_name, {}).get(group_name)  # type: ignore[arg-type]
    if group is None:
        raise CodeDeployError(
            "DeploymentGroupDoesNotExistException",
            f"The deployment group {group_name} does not exist with the user or AWS account.",
        )
    return group


def _require_deployment(self: CodeDeployBackend, deployment_id: str | None) -> Deployment:
    if not deployment_id:
        raise CodeDeployError(
            "DeploymentIdRequiredException", "At least one deployment ID must be specified."
        )
    if not _is_deployment_id(deployment_id):
        raise CodeDeployError(
            "InvalidDeploymentIdException",
            f"The deployment ID {deployment_id} was specified in an invalid format.",
        )
    d = self.deployments.get(deployment_id)
    if not isinstance(d, Deployment):
        raise CodeDeployError(
            "DeploymentDoesNotExistException",
            f"The deployment {deployment_id} could not be found.",
        )
    return d


def _validate_ecs_services(
    self: CodeDeployBackend,
    app: Application,
    ecs_services: list[dict[str, str]] | None,
    ignore_group: DeploymentGroup | None = None,
) -> None:
    """What AWS checks in Create/UpdateDeploymentGroup for ECS groups."""
    if app.compute_platform != "ECS" or not ecs_services:
        return
    from moto.ecs.models import ecs_backends

    ecs = ecs_backends[self.account_id][self.region_name]
    for svc in ecs_services:
        cluster, name = svc.get("clusterName"), svc.get("serviceName")
        try:
            service = ecs._get_service(cluster, name)
        except Exception:
            service = None
        if service is None or service.status != "ACTIVE":
            raise CodeDeployError(
                "InvalidECSServiceException",
                f"The ECS service {name} in cluster {cluster} does not exist or is not ACTIVE.",
            )
        if (service.deployment_controller or {}).get("type") != "CODE_DEPLOY":
            raise CodeDeployError(
                "InvalidECSServiceException",
                "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment controller.",
            )
        for groups in self.deployment_groups.values():
            for other in groups.values():
                if other is ignore_group:
                    continue
                for mapped in other.ecs_services or []:
                    if mapped.get("clusterName") == cluster and mapped.get("serviceName") == name:
                        raise CodeDeployError(
                            "ECSServiceMappingLimitExceededException",
                            "The Amazon ECS service is associated with more than one deployment groups. "
                            "An Amazon ECS service can be associated with only one deployment group.",
                        )


_original_create_deployment_group = CodeDeployBackend.create_deployment_group


def create_deployment_group(self: CodeDeployBackend, application_name: str, deployment_group_name: str, *args: Any, **kwargs: Any) -> str:
    with control.LOCK:
        app = _require_application(self, application_name)
        kwargs["deployment_config_name"] = _check_config_name(
            kwargs.get("deployment_config_name"), app.compute_platform
        )
        if deployment_group_name in self.deployment_groups.get(application_name, {}):
            raise CodeDeployError(
                "DeploymentGroupAlreadyExistsException",
                f"The deployment group {deployment_group_name} already exists with the user or AWS account.",
            )
        _validate_ecs_services(self, app, kwargs.get("ecs_services"))
        return _original_create_deployment_group(
            self, application_name, deployment_group_name, *args, **kwargs
        )


def create_deployment(
    self: CodeDeployBackend,
    application_name: str,
    deployment_group_name: str,
    revision: dict[str, Any] | None,
    deployment_config_name: str | None = None,
    description: str | None = None,
    ignore_application_stop_failures: bool | None = None,
    target_instances: Any | None = None,
    auto_rollback_configuration: Any | None = None,
    update_outdated_instances_only: bool | None = None,
    file_exists_behavior: str | None = None,
    override_alarm_configuration: Any | None = None,
) -> str:
    with control.LOCK:
        group = _require_group(self, application_name, deployment_group_name)
        app = group.application
        for existing in self.deployments.values():
            if isinstance(existing, Deployment) and existing.group is group and existing.active:
                raise CodeDeployError(
                    "DeploymentLimitExceededException",
                    f"The Deployment Group '{deployment_group_name}' already has an active "
                    f"Deployment '{existing.deployment_id}'",
                )
        if not revision:
            revision = _group_ext(group)["target_revision"]
        if not revision:
            raise CodeDeployError("RevisionRequiredException", "The revision ID was not specified.")
        if description is not None and len(description) > 100:
            raise CodeDeployError(
                "DescriptionTooLongException", "The description is too long (maximum 100 characters)."
            )
        config_name = _check_config_name(
            deployment_config_name or group.deployment_config_name, app.compute_platform
        )
        d = Deployment(
            self,
            group,
            revision=revision,
            config_name=config_name,
            description=description,
            creator="user",
            steps=control.STATE.deploy_steps,
            auto_rollback_configuration=auto_rollback_configuration,
            ignore_application_stop_failures=ignore_application_stop_failures,
            file_exists_behavior=file_exists_behavior,
            override_alarm_configuration=override_alarm_configuration,
            target_instances=target_instances,
            update_outdated_instances_only=update_outdated_instances_only,
        )
        d.injected_failure = control.STATE.take_failure(application_name, deployment_group_name)
        self.deployments[d.deployment_id] = d
        _group_ext(group)["last_attempted"] = d.deployment_id
        if group.tags:
            arn = f"arn:aws:codedeploy:{self.region_name}:{self.account_id}:deployment:{d.deployment_id}"
            self.tagger.tag_resource(arn, group.tags)
        if d.remaining_steps <= 0:
            _run_to_end(self, d)
        return d.deployment_id


def get_deployment(self: CodeDeployBackend, deployment_id: str) -> Deployment:
    with control.LOCK:
        d = _require_deployment(self, deployment_id)
        _advance(self, d)
        return d


def batch_get_deployments(self: CodeDeployBackend, deployment_ids: list[str]) -> list[Deployment]:
    with control.LOCK:
        if not deployment_ids:
            raise CodeDeployError(
                "DeploymentIdRequiredException", "At least one deployment ID must be specified."
            )
        if len(deployment_ids) > BATCH_GET_DEPLOYMENTS_LIMIT:
            raise CodeDeployError(
                "BatchLimitExceededException",
                "The maximum number of names or IDs allowed for this request "
                f"({BATCH_GET_DEPLOYMENTS_LIMIT}) was exceeded.",
            )
        found: list[Deployment] = []
        for deployment_id in dict.fromkeys(deployment_ids):
            if not _is_deployment_id(deployment_id):
                raise CodeDeployError(
                    "InvalidDeploymentIdException",
                    f"The deployment ID {deployment_id} was specified in an invalid format.",
                )
            d = self.deployments.get(deployment_id)
            if isinstance(d, Deployment):
                _advance(self, d)
                found.append(d)
        return found


def list_deployments(
    self: CodeDeployBackend,
    application_name: str | None,
    deployment_group_name: str | None,
    external_id: str | None,
    include_only_statuses: list[str] | None,
    create_time_range: dict[str, Any] | None,
) -> list[str]:
    with control.LOCK:
        if application_name and not deployment_group_name:
            raise CodeDeployError(
                "DeploymentGroupNameRequiredException",
                "If applicationName is specified, then deploymentGroupName must be specified.",
            )
        if deployment_group_name and not application_name:
            raise CodeDeployError(
                "ApplicationNameRequiredException",
                "If deploymentGroupName is specified, applicationName must be specified.",
            )
        group = None
        if application_name:
            group = _require_group(self, application_name, deployment_group_name)
        for status in include_only_statuses or []:
            if status not in ALL_STATUSES:
                raise CodeDeployError(
                    "InvalidDeploymentStatusException", f"The deployment status {status} is invalid."
                )
        start = end = None
        if create_time_range:
            start = _to_datetime(create_time_range.get("start"))
            end = _to_datetime(create_time_range.get("end"))
        matched: list[Deployment] = []
        for d in list(self.deployments.values()):
            if not isinstance(d, Deployment):
                continue
            if group is not None and d.group is not group:
                continue
            if external_id:
                continue  # the emulator has no deployments linked to external resources
            if start and d.create_time < start or end and d.create_time > end:
                continue
            _advance(self, d)
            if include_only_statuses and d.status not in include_only_statuses:
                continue
            matched.append(d)
        # Newest first, like CodeDeploy.
        matched.sort(key=lambda x: x.create_time, reverse=True)
        return [d.deployment_id for d in matched]


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except ValueError:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def batch_get_deployment_groups(
    self: CodeDeployBackend, application_name: str | None, names: list[str] | None
) -> tuple[list[DeploymentGroup], str | None]:
    with control.LOCK:
        _require_application(self, application_name)
        if not names:
            raise CodeDeployError(
                "DeploymentGroupNameRequiredException", "The deployment group name was not specified."
            )
        if len(names) > BATCH_GET_DEPLOYMENT_GROUPS_LIMIT:
            raise CodeDeployError(
                "BatchLimitExceededException",
                "The maximum number of names or IDs allowed for this request "
                f"({BATCH_GET_DEPLOYMENT_GROUPS_LIMIT}) was exceeded.",
            )
        groups = self.deployment_groups.get(application_name, {})  # type: ignore[arg-type]
        found = [groups[n] for n in dict.fromkeys(names) if n in groups]
        missing = [n for n in dict.fromkeys(names) if n not in groups]
        message = None
        if missing:
            message = (
                "The following deployment groups do not exist in application "
                f"{application_name}: {', '.join(missing)}"
            )
        return found, message


_UPDATABLE_GROUP_FIELDS = {
    # request member -> DeploymentGroup attribute
    "ec2TagFilters": "ec2_tag_filters",
    "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
    "autoScalingGroups": "auto_scaling_groups",
    "serviceRoleArn": "service_role_arn",
    "triggerConfigurations": "trigger_configurations",
    "alarmConfiguration": "alarm_configuration",
    "autoRollbackConfiguration": "auto_rollback_configuration",
    "outdatedInstancesStrategy": "outdated_instances_strategy",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
    "loadBalancerInfo": "load_balancer_info",
    "ec2TagSet": "ec2_tag_set",
    "ecsServices": "ecs_services",
    "onPremisesTagSet": "on_premises_tag_set",
    "terminationHookEnabled": "termination_hook_enabled",
}


def update_deployment_group(self: CodeDeployBackend, params: dict[str, Any]) -> None:
    with control.LOCK:
        app_name = params.get("applicationName")
        current = params.get("currentDeploymentGroupName")
        group = _require_group(self, app_name, current)
        app = group.application
        if params.get("deploymentConfigName") is not None:
            group.deployment_config_name = _check_config_name(
                params["deploymentConfigName"], app.compute_platform
            )
        if params.get("ecsServices") is not None:
            _validate_ecs_services(self, app, params["ecsServices"], ignore_group=group)
        new_name = params.get("newDeploymentGroupName")
        groups = self.deployment_groups[app_name]  # type: ignore[index]
        if new_name and new_name != current:
            if new_name in groups:
                raise CodeDeployError(
                    "DeploymentGroupAlreadyExistsException",
                    f"The deployment group {new_name} already exists with the user or AWS account.",
                )
        for member, attr in _UPDATABLE_GROUP_FIELDS.items():
            if params.get(member) is not None:
                setattr(group, attr, copy.deepcopy(params[member]))
        if new_name and new_name != current:
            del groups[current]  # type: ignore[arg-type]
            group.deployment_group_name = new_name
            groups[new_name] = group


def delete_deployment_group(self: CodeDeployBackend, application_name: str | None, name: str | None) -> None:
    with control.LOCK:
        if not application_name:
            raise CodeDeployError(
                "ApplicationNameRequiredException", "The minimum number of required application names was not specified."
            )
        if not name:
            raise CodeDeployError(
                "DeploymentGroupNameRequiredException", "The deployment group name was not specified."
            )
        # Deleting a group that does not exist succeeds, as in AWS.
        self.deployment_groups.get(application_name, {}).pop(name, None)


def delete_application(self: CodeDeployBackend, application_name: str | None) -> None:
    with control.LOCK:
        if not application_name:
            raise CodeDeployError(
                "ApplicationNameRequiredException", "The minimum number of required application names was not specified."
            )
        self.applications.pop(application_name, None)
        self.deployment_groups.pop(application_name, None)


def stop_deployment(
    self: CodeDeployBackend, deployment_id: str | None, auto_rollback_enabled: bool | None
) -> dict[str, str]:
    with control.LOCK:
        d = _require_deployment(self, deployment_id)
        if not d.active:
            raise CodeDeployError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {d.deployment_id} has already completed.",
            )
        d.status = "Stopped"
        d.injected_failure = None
        d.complete_time = d.last_updated = _now()
        if d.start_time is None:
            d.start_time = d.complete_time
        d.error_information = {
            "code": "MANUAL_STOP",
            "message": "The deployment was stopped by a user request.",
        }
        if auto_rollback_enabled is None:
            roll_back = _rollback_enabled(d, "DEPLOYMENT_STOP_ON_REQUEST")
        else:
            roll_back = bool(auto_rollback_enabled)
        if roll_back:
            _roll_back(self, d, f"Deployment {d.deployment_id} was stopped")
        return {
            "status": "Succeeded",
            "statusMessage": f"The deployment {d.deployment_id} was stopped.",
        }


def continue_deployment(self: CodeDeployBackend, deployment_id: str | None, wait_type: str | None) -> None:
    with control.LOCK:
        d = _require_deployment(self, deployment_id)
        wait_type = wait_type or "READY_WAIT"
        if wait_type not in ("READY_WAIT", "TERMINATION_WAIT"):
            raise CodeDeployError(
                "InvalidDeploymentWaitTypeException", f"The wait type {wait_type} is invalid."
            )
        if not d.active:
            raise CodeDeployError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {d.deployment_id} has already completed.",
            )
        if wait_type == "TERMINATION_WAIT" or d.status != "Ready":
            # The emulator never waits before terminating the original task set.
            raise CodeDeployError(
                "DeploymentIsNotInReadyStateException",
                f"The deployment {d.deployment_id} is not in the Ready state.",
            )
        d.status = "InProgress"
        d.remaining_steps -= 1
        if d.remaining_steps <= 0:
            _finish(self, d)


def list_deployment_targets(self: CodeDeployBackend, deployment_id: str | None, target_filters: dict[str, list[str]] | None) -> list[str]:
    with control.LOCK:
        d = _require_deployment(self, deployment_id)
        if d.status == "Created":
            raise CodeDeployError(
                "DeploymentNotStartedException", "The specified deployment has not started."
            )
        target = d.target_id()
        if target is None:
            return []
        statuses = (target_filters or {}).get("TargetStatus")
        if statuses:
            status = _target_status(d)
            if status not in statuses:
                return []
        return [target]


def _target_status(d: Deployment) -> str:
    return {
        "Created": "Pending",
        "Queued": "Pending",
        "InProgress": "InProgress",
        "Baking": "InProgress",
        "Ready": "Ready",
        "Succeeded": "Succeeded",
        "Failed": "Failed",
        "Stopped": "Failed",
    }[d.status]


def _custom_configs(self: CodeDeployBackend) -> dict[str, dict[str, Any]]:
    if not hasattr(self, "_converge_custom_configs"):
        self._converge_custom_configs = {}  # type: ignore[attr-defined]
    return self._converge_custom_configs  # type: ignore[attr-defined,no-any-return]


def create_deployment_config(
    self: CodeDeployBackend, name: str | None, compute_platform: str | None, traffic_routing: dict[str, Any] | None
) -> str:
    """CreateDeploymentConfig (ECS traffic routing only): a custom config, as GetDeploymentConfig then answers it."""
    if not name:
        raise CodeDeployError(
            "DeploymentConfigNameRequiredException", "The deployment configuration name was not specified."
        )
    custom = _custom_configs(self)
    if name in custom or name in PREDEFINED_CONFIGS:
        raise CodeDeployError(
            "DeploymentConfigAlreadyExistsException",
            f"A deployment configuration with the name {name} already exists with the applicable IAM user or AWS account.",
        )
    config = _config(name, compute_platform or "Server", trafficRoutingConfig=traffic_routing)
    config["createTime"] = datetime.now(timezone.utc)
    custom[name] = _drop_none(config)
    return str(config["deploymentConfigId"])


def get_deployment_config(self: CodeDeployBackend, name: str | None) -> dict[str, Any]:
    if not name:
        raise CodeDeployError(
            "DeploymentConfigNameRequiredException", "The deployment configuration name was not specified."
        )
    config = PREDEFINED_CONFIGS.get(name) or _custom_configs(self).get(name)
    if config is None:
        raise CodeDeployError(
            "DeploymentConfigDoesNotExistException",
            f"The deployment configuration {name} does not exist with the user or AWS account.",
        )
    return config


def _settle_all() -> list[str]:
    from moto.codedeploy.models import codedeploy_backends

    settled = []
    for account_backends in codedeploy_backends.values():
        for backend in account_backends.values():
            for d in list(backend.deployments.values()):
                if isinstance(d, Deployment) and d.active:
                    _run_to_end(backend, d)
                    settled.append(d.deployment_id)
    return settled


# --------------------------------------------------------------------------------------
# Response methods (installed on CodeDeployResponse): model-driven serialisation
# --------------------------------------------------------------------------------------


def _r_get_application(self: CodeDeployResponse) -> ActionResult:
    app = _require_application(self.codedeploy_backend, self._get_param("applicationName"))
    return ActionResult({"application": _application_info(app)})


def _r_batch_get_applications(self: CodeDeployResponse) -> ActionResult:
    names = self._get_param("applicationNames") or []
    if len(names) > 100:
        raise CodeDeployError(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (100) was exceeded.",
        )
    apps = [_require_application(self.codedeploy_backend, n) for n in names]
    return ActionResult({"applicationsInfo": [_application_info(a) for a in apps]})


def _r_list_applications(self: CodeDeployResponse) -> ActionResult:
    return _paged(self, "applications", sorted(self.codedeploy_backend.applications))


def _r_create_application(self: CodeDeployResponse) -> ActionResult:
    backend = self.codedeploy_backend
    platform = self._get_param("computePlatform") or "Server"
    app_id = backend.create_application(
        application_name=self._get_param("applicationName"),
        compute_platform=platform,
        tags=self._get_param("tags"),
    )
    app = backend.applications[self._get_param("applicationName")]
    app._converge_create_time = _now()  # type: ignore[attr-defined]
    return ActionResult({"applicationId": app_id})


def _r_get_deployment(self: CodeDeployResponse) -> ActionResult:
    d = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    return ActionResult({"deploymentInfo": d.to_dict()})


def _r_batch_get_deployments(self: CodeDeployResponse) -> ActionResult:
    found = self.codedeploy_backend.batch_get_deployments(self._get_param("deploymentIds") or [])
    return ActionResult({"deploymentsInfo": [d.to_dict() for d in found]})


def _r_get_deployment_group(self: CodeDeployResponse) -> ActionResult:
    backend = self.codedeploy_backend
    with control.LOCK:
        group = _require_group(
            backend, self._get_param("applicationName"), self._get_param("deploymentGroupName")
        )
        return ActionResult({"deploymentGroupInfo": _group_info(backend, group)})


def _r_batch_get_deployment_groups(self: CodeDeployResponse) -> ActionResult:
    backend = self.codedeploy_backend
    groups, message = backend.batch_get_deployment_groups(
        self._get_param("applicationName"), self._get_param("deploymentGroupNames")
    )
    with control.LOCK:
        result: dict[str, Any] = {
            "deploymentGroupsInfo": [_group_info(backend, g) for g in groups]
        }
    if message:
        result["errorMessage"] = message
    return ActionResult(result)


def _r_list_deployment_groups(self: CodeDeployResponse) -> ActionResult:
    backend = self.codedeploy_backend
    app_name = self._get_param("applicationName")
    _require_application(backend, app_name)
    names = list(backend.deployment_groups.get(app_name, {}))
    result = _paged_dict(self, "deploymentGroups", names)
    result["applicationName"] = app_name
    return ActionResult(result)


def _r_create_deployment(self: CodeDeployResponse) -> ActionResult:
    deployment_id = self.codedeploy_backend.create_deployment(
        application_name=self._get_param("applicationName"),
        deployment_group_name=self._get_param("deploymentGroupName"),
        revision=self._get_param("revision"),
        deployment_config_name=self._get_param("deploymentConfigName"),
        description=self._get_param("description"),
        ignore_application_stop_failures=self._get_param("ignoreApplicationStopFailures"),
        target_instances=self._get_param("targetInstances"),
        auto_rollback_configuration=self._get_param("autoRollbackConfiguration"),
        update_outdated_instances_only=self._get_param("updateOutdatedInstancesOnly"),
        file_exists_behavior=self._get_param("fileExistsBehavior"),
        override_alarm_configuration=self._get_param("overrideAlarmConfiguration"),
    )
    return ActionResult({"deploymentId": deployment_id})


def _r_list_deployments(self: CodeDeployResponse) -> ActionResult:
    ids = self.codedeploy_backend.list_deployments(
        application_name=self._get_param("applicationName"),
        deployment_group_name=self._get_param("deploymentGroupName"),
        external_id=self._get_param("externalId"),
        include_only_statuses=self._get_param("includeOnlyStatuses"),
        create_time_range=self._get_param("createTimeRange"),
    )
    return _paged(self, "deployments", ids)


def _r_update_deployment_group(self: CodeDeployResponse) -> ActionResult:
    params = json.loads(self.body or "{}")
    self.codedeploy_backend.update_deployment_group(params)
    return ActionResult({"hooksNotCleanedUp": []})


def _r_delete_deployment_group(self: CodeDeployResponse) -> ActionResult:
    self.codedeploy_backend.delete_deployment_group(
        self._get_param("applicationName"), self._get_param("deploymentGroupName")
    )
    return ActionResult({"hooksNotCleanedUp": []})


def _r_delete_application(self: CodeDeployResponse) -> ActionResult:
    self.codedeploy_backend.delete_application(self._get_param("applicationName"))
    return EmptyResult()


def _r_stop_deployment(self: CodeDeployResponse) -> ActionResult:
    result = self.codedeploy_backend.stop_deployment(
        self._get_param("deploymentId"), self._get_param("autoRollbackEnabled")
    )
    return ActionResult(result)


def _r_continue_deployment(self: CodeDeployResponse) -> ActionResult:
    self.codedeploy_backend.continue_deployment(
        self._get_param("deploymentId"), self._get_param("deploymentWaitType")
    )
    return EmptyResult()


def _r_list_deployment_targets(self: CodeDeployResponse) -> ActionResult:
    ids = self.codedeploy_backend.list_deployment_targets(
        self._get_param("deploymentId"), self._get_param("targetFilters")
    )
    return ActionResult({"targetIds": ids})


def _r_create_deployment_config(self: CodeDeployResponse) -> ActionResult:
    config_id = self.codedeploy_backend.create_deployment_config(
        self._get_param("deploymentConfigName"),
        self._get_param("computePlatform"),
        self._get_param("trafficRoutingConfig"),
    )
    return ActionResult({"deploymentConfigId": config_id})


def _r_get_deployment_config(self: CodeDeployResponse) -> ActionResult:
    config = self.codedeploy_backend.get_deployment_config(self._get_param("deploymentConfigName"))
    return ActionResult({"deploymentConfigInfo": config})


def _paged_dict(self: CodeDeployResponse, key: str, items: list[str]) -> dict[str, Any]:
    token = self._get_param("nextToken")
    try:
        offset = int(token) if token else 0
    except ValueError:
        raise CodeDeployError("InvalidNextTokenException", "The next token was specified in an invalid format.")
    page = items[offset : offset + LIST_PAGE_SIZE]
    result: dict[str, Any] = {key: page}
    if offset + LIST_PAGE_SIZE < len(items):
        result["nextToken"] = str(offset + LIST_PAGE_SIZE)
    return result


def _paged(self: CodeDeployResponse, key: str, items: list[str]) -> ActionResult:
    return ActionResult(_paged_dict(self, key, items))


# --------------------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------------------

_BACKEND_METHODS = {
    "create_deployment_group": create_deployment_group,
    "create_deployment": create_deployment,
    "get_deployment": get_deployment,
    "batch_get_deployments": batch_get_deployments,
    "list_deployments": list_deployments,
    "batch_get_deployment_groups": batch_get_deployment_groups,
    "update_deployment_group": update_deployment_group,
    "delete_deployment_group": delete_deployment_group,
    "delete_application": delete_application,
    "stop_deployment": stop_deployment,
    "continue_deployment": continue_deployment,
    "list_deployment_targets": list_deployment_targets,
    "get_deployment_config": get_deployment_config,
    "create_deployment_config": create_deployment_config,
}

# Response method names are the snake_case operation names moto dispatches on.
_RESPONSE_METHODS = {
    "get_application": _r_get_application,
    "batch_get_applications": _r_batch_get_applications,
    "list_applications": _r_list_applications,
    "create_application": _r_create_application,
    "get_deployment": _r_get_deployment,
    "batch_get_deployments": _r_batch_get_deployments,
    "get_deployment_group": _r_get_deployment_group,
    "batch_get_deployment_groups": _r_batch_get_deployment_groups,
    "list_deployment_groups": _r_list_deployment_groups,
    "create_deployment": _r_create_deployment,
    "list_deployments": _r_list_deployments,
    "update_deployment_group": _r_update_deployment_group,
    "delete_deployment_group": _r_delete_deployment_group,
    "delete_application": _r_delete_application,
    "stop_deployment": _r_stop_deployment,
    "continue_deployment": _r_continue_deployment,
    "list_deployment_targets": _r_list_deployment_targets,
    "get_deployment_config": _r_get_deployment_config,
    "create_deployment_config": _r_create_deployment_config,
}


def install() -> None:
    for name, fn in _BACKEND_METHODS.items():
        setattr(CodeDeployBackend, name, fn)
    for name, fn in _RESPONSE_METHODS.items():
        setattr(CodeDeployResponse, name, fn)
    # CodeDeploy state lives in moto's backends, which moto's reset already rebuilds.
    control.SETTLE_HOOKS.append(_settle_all)
