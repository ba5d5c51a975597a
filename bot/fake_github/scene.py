"""What a test makes happen on GitHub's side: a run's job waits on an environment (a
pending rule, and the webhook GitHub sends for it), the job deploys (the
`deployment_status` webhook), the run is cancelled. Ids are made up here, the same ids
GitHub would use in every later payload and URL of the run."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from types import EllipsisType
from typing import Any

from bot.fake_github import payloads
from bot.fake_github.auth import Apps
from bot.fake_github.model import JSON, Installation, Rule
from bot.fake_github.rules import Rules


class Scene:
    def __init__(self, apps: Apps, rules: Rules, api_url: Callable[[], str]) -> None:
        self.apps, self.rules, self.api_url = apps, rules, api_url
        self._run_ids = itertools.count(10_000_000_001)
        self._deployment_ids = itertools.count(2_000_000_001)
        self._job_ids = itertools.count(30_000_000_001)
        self._status_ids = itertools.count(4_000_000_001)

    def request_protection(
        self,
        repo: str,
        environment: str,
        sha: str,
        run_id: int | None,
        ref: str,
        installation_id: int | None,
        event: str,
        deployment: JSON | EllipsisType | None,
        sender: Mapping[str, Any] | None,
    ) -> JSON:
        installation = self._installation(repo, installation_id)
        run = next(self._run_ids) if run_id is None else run_id
        sent: JSON | None
        if isinstance(deployment, EllipsisType):
            sent = payloads.deployment(
                next(self._deployment_ids), repo, sha, ref, environment, self.api_url()
            )
        else:
            sent = deployment
        self.rules.register(
            Rule(
                repo=repo,
                run_id=run,
                environment=environment,
                sha=sha,
                ref=ref,
                installation_id=installation.installation_id,
                app_id=installation.app_id,
                deployment_id=int(sent["id"]) if sent and "id" in sent else None,
            )
        )
        return payloads.deployment_protection_rule(
            repo=repo,
            repo_id=self.apps.repo_id(repo),
            environment=environment,
            sha=sha,
            ref=ref,
            run_id=run,
            installation_id=installation.installation_id,
            api_url=self.api_url(),
            deployment=sent,
            event=event,
            sender=sender,
        )

    def deployment_status(
        self, repo: str, environment: str, sha: str, state: str, run_id: int | None, ref: str | None
    ) -> JSON:
        waited = [
            r
            for r in self.rules.rules.values()
            if r.repo.lower() == repo.lower()
            and r.environment == environment
            and (r.run_id == run_id if run_id is not None else r.sha == sha)
        ]
        rule = waited[-1] if waited else None
        if rule is not None:
            run, branch = rule.run_id, ref or rule.ref
            deployment_id = rule.deployment_id or next(self._deployment_ids)
            installation = self.apps.installations[rule.installation_id]
        else:
            run = next(self._run_ids) if run_id is None else run_id
            branch, deployment_id = ref or "refs/heads/main", next(self._deployment_ids)
            installation = self._installation(repo, None)
        api_url = self.api_url()
        return payloads.deployment_status(
            repo=repo,
            repo_id=self.apps.repo_id(repo),
            environment=environment,
            sha=sha,
            ref=branch,
            state=state,
            run_id=run,
            job_id=next(self._job_ids),
            status_id=next(self._status_ids),
            deployment=payloads.deployment(deployment_id, repo, sha, branch, environment, api_url),
            installation_id=installation.installation_id,
            api_url=api_url,
        )

    def _installation(self, repo: str, installation_id: int | None) -> Installation:
        if installation_id is None:
            return self.apps.installation_for(repo)
        installation = self.apps.installations.get(installation_id)
        if installation is None:
            raise ValueError(f"no installation {installation_id}: add_installation() first")
        if not installation.includes(repo):
            raise ValueError(f"installation {installation_id} does not include {repo}")
        return installation
