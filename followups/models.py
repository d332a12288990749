"""Follow-up policies. The task queues built on them arrive with the follow-up work."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from customers.models import Segment

DEFAULT_DETRACTOR_SLA_HOURS = 24


class SlaPolicy(models.Model):
    """How soon a Detractor of a segment is contacted (DOMAIN.md: 24 h by default, 48 h at most)."""

    segment = models.CharField(max_length=16, choices=Segment.choices, unique=True)
    detractor_hours = models.PositiveSmallIntegerField(
        "detractor SLA (hours)",
        default=DEFAULT_DETRACTOR_SLA_HOURS,
        validators=[MinValueValidator(4), MaxValueValidator(48)],
    )

    class Meta:
        ordering = ["segment"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(detractor_hours__gte=4, detractor_hours__lte=48), name="detractor_sla_4_to_48_hours"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_segment_display()}: {self.detractor_hours} h"


def detractor_sla_hours(segment: str) -> int:
    policy = SlaPolicy.objects.filter(segment=segment).first()
    return policy.detractor_hours if policy else DEFAULT_DETRACTOR_SLA_HOURS
