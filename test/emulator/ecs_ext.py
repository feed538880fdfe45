"""Converge's extensions of moto's ECS (moto 5.2.x): checks real ECS makes and moto doesn't.

* CreateService refuses a name that an ACTIVE service of the cluster already uses
  (moto silently replaces the service):
  `InvalidParameterException: Creation of service was not idempotent.`
* DescribeServices refuses more than 10 services:
  `InvalidParameterException: service names can have at most 10 items.`
* UpdateService on a service with the CODE_DEPLOY deployment controller refuses what only a
  CodeDeploy deployment may change (moto accepts everything):
    taskDefinition        -> "Unable to update task definition on services with a CODE_DEPLOY
                              deployment controller. Use AWS CodeDeploy to trigger a new deployment."
    loadBalancers         -> "Unable to update load balancers on services ..."
    networkConfiguration,
    platformVersion,
    forceNewDeployment    -> "Unable to update network parameters on services ..."
  (moto 5.2.1 does store deploymentController: {type: CODE_DEPLOY} from CreateService and
  gives such services no `deployments` entries; it just never checked UpdateService.)
* UpdateService on an INACTIVE (deleted) service: `ServiceNotActiveException`.
* UpdateService with `taskDefinition` stores the full task definition ARN, as ECS answers it
  (moto stored whatever string was sent, e.g. `family:3`).
* CreateService keeps `deploymentConfiguration` (the circuit breaker among it) and
  `healthCheckGracePeriodSeconds`, which moto dropped, so DescribeServices answers them as ECS does.
* RegisterTaskDefinition without `executionRoleArn` refuses what needs the task execution role
  (ECS developer guide, "Amazon ECS task execution IAM role"; moto registered it):
    a FARGATE task definition with a container using the `awslogs` log driver ->
      `ClientException: Fargate requires task definition to have execution role ARN to support
      log driver awslogs.` (the message AWS answers: virtual-kubelet/virtual-kubelet#193)
    a container with `secrets` (any launch type) ->
      `ClientException: When you are specifying container secrets, you must also specify a value
      for 'executionRoleArn'.` (fabfuel/ecs-deploy#87, hashicorp/terraform-provider-aws#6503)

Tag limits (50 per resource) are in tag_limits_ext.py.
"""

from __future__ import annotations

from typing import Any

from moto.ecs.exceptions import ECSException, EcsClientException, InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse

import control

DESCRIBE_SERVICES_LIMIT = 10

_CODE_DEPLOY_SUFFIX = (
    "on services with a CODE_DEPLOY deployment controller. "
    "Use AWS CodeDeploy to trigger a new deployment."
)

# UpdateService members (snake_case, as moto hands them over) a CODE_DEPLOY service refuses.
_CODE_DEPLOY_REFUSED = [
    ("task_definition", "task definition"),
    ("load_balancers", "load balancers"),
    ("network_configuration", "network parameters"),
    ("platform_version", "network parameters"),
    ("force_new_deployment", "network parameters"),
]


class ServiceNotActiveException(ECSException):
    def __init__(self) -> None:
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


_original_register_task_definition = EC2ContainerServiceBackend.register_task_definition


def register_task_definition(
    self: EC2ContainerServiceBackend, family: str, container_definitions: list[dict[str, Any]], *args: Any, **kwargs: Any
) -> Any:
    # moto's response passes everything after the container definitions by keyword.
    if not kwargs.get("execution_role_arn"):
        fargate = "FARGATE" in (kwargs.get("requires_compatibilities") or [])
        for container in container_definitions or []:
            if fargate and (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
                raise EcsClientException(
                    "Fargate requires task definition to have execution role ARN to support log driver awslogs."
                )
            if container.get("secrets"):
                raise EcsClientException(
                    "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."
                )
    return _original_register_task_definition(self, family, container_definitions, *args, **kwargs)


_original_create_service = EC2ContainerServiceBackend.create_service
_original_describe_services = EC2ContainerServiceBackend.describe_services
_original_update_service = EC2ContainerServiceBackend.update_service


def create_service(self: EC2ContainerServiceBackend, cluster_str: str, service_name: str, *args: Any, **kwargs: Any) -> Any:
    with control.LOCK:
        cluster = self._get_cluster(cluster_str)
        existing = self.services.get(f"{cluster.name}:{service_name}")
        if existing is not None and existing.status == "ACTIVE":
            raise InvalidParameterException("Creation of service was not idempotent.")
        return _original_create_service(self, cluster_str, service_name, *args, **kwargs)


def describe_services(self: EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]) -> Any:
    if len(service_names_or_arns or []) > DESCRIBE_SERVICES_LIMIT:
        raise InvalidParameterException("service names can have at most 10 items.")
    return _original_describe_services(self, cluster_str, service_names_or_arns)


def update_service(self: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Any:
    with control.LOCK:
        cluster_str = service_properties.get("cluster", "default")
        service_name = str(service_properties.get("service", "")).split("/")[-1]
        service = self._get_service(cluster_str, service_name)
        if service.status != "ACTIVE":
            raise ServiceNotActiveException()
        controller = (service.deployment_controller or {}).get("type", "ECS")
        if controller == "CODE_DEPLOY":
            for member, what in _CODE_DEPLOY_REFUSED:
                value = service_properties.get(member)
                if value is not None and value is not False:
                    raise InvalidParameterException(f"Unable to update {what} {_CODE_DEPLOY_SUFFIX}")
        task_definition_str = service_properties.get("task_definition")
        updated = _original_update_service(self, service_properties)
        if task_definition_str:
            updated.task_definition = self.describe_task_definition(task_definition_str).arn
        return updated


_original_create_service_response = EC2ContainerServiceResponse.create_service


def create_service_response(self: EC2ContainerServiceResponse) -> Any:
    result = _original_create_service_response(self)
    service = self.ecs_backend.services.get(f"{self._get_param('cluster', 'default').split('/')[-1]}:{self._get_param('serviceName')}")
    if service is not None:
        deployment_configuration = self._get_param("deploymentConfiguration")
        if deployment_configuration is not None:
            service.deployment_configuration = deployment_configuration
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is not None:
            service.health_check_grace_period_seconds = grace
    return result


def install() -> None:
    EC2ContainerServiceResponse.create_service = create_service_response  # type: ignore[method-assign]
    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.register_task_definition = register_task_definition  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_services = describe_services  # type: ignore[method-assign]
    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
