"""kube-scheduler for kube-lite: the queue, the framework with Kubernetes' default plugins,
preemption, and the Scheduler component that drives them through the API.

    from kube_lite.scheduler import Scheduler
    scheduler = Scheduler(client, clock)
    await task_group.start(scheduler.run)

Modules: podinfo (what a pod asks for), nodeinfo and cache (nodes with their pods, assumed
pods; the snapshot), plugin and plugins/ (the filter and score plugins, pure functions),
framework (one pod: filter, score, select; the FailedScheduling message), queue (active,
backoff, unschedulable; the nominator), preemption (DefaultPreemption), scheduler (informers,
the scheduling loop, binding, events, status).
"""

from kube_lite.scheduler.framework import FitError, Framework, fit_error_message
from kube_lite.scheduler.scheduler import Scheduler

__all__ = ["FitError", "Framework", "Scheduler", "fit_error_message"]
