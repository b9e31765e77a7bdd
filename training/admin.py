from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from goldsite.admin import ReadOnlyAdmin
from goldsite.errors import GoldsiteError
from goldsite.presentation.formatting import metric, p_cell
from training.evidence import promotion_review, version_verdict
from training.forms import PromoteForm
from training.models import ChampionChange, ModelVersion, TrainingRun
from training.permissions import PROMOTE_MODEL_VERSION
from training.services.promotion import model_version_promote

ADMIN_PROMOTION_REASON = "Promoted in admin"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "architecture",
        "is_champion",
        "cv_mae",
        "cv_p",
        "verdict",
        "test_mae",
        "test_mape",
        "test_rmae",
        "test_coverage_80",
        "data_end",
        "created_at",
    ]
    list_filter = ["architecture", "is_champion", "registered_name"]
    list_select_related = ["training_run"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote_to_champion"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="CV MAE")
    def cv_mae(self, obj):
        return metric(obj.cv_metrics.get("mae"), ".2f")

    @admin.display(description="p vs naive")
    def cv_p(self, obj):
        return p_cell(obj.p_value)

    @admin.display(description="verdict")
    def verdict(self, obj):
        return version_verdict(obj).text

    @admin.display(description="test MAE")
    def test_mae(self, obj):
        return metric(obj.test_metrics.get("mae"), ".2f")

    @admin.display(description="test MAPE %")
    def test_mape(self, obj):
        return metric(obj.test_metrics.get("mape"), ".3f")

    @admin.display(description="test rMAE")
    def test_rmae(self, obj):
        return metric(obj.test_metrics.get("rmae"), ".3f")

    @admin.display(description="test 80% coverage")
    def test_coverage_80(self, obj):
        return metric(obj.test_metrics.get("coverage_80"), ".1%")

    def has_promote_permission(self, request) -> bool:
        """training.promote_modelversion, as on the API and the pages."""
        return request.user.has_perm(PROMOTE_MODEL_VERSION)

    @admin.action(description="Promote to champion", permissions=["promote"])
    def promote_to_champion(self, request, queryset):
        """A confirmation page with the version's evidence; a reason is required when the evidence does not
        back it (training.evidence.promotion_reason_needed)."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model version to promote.", messages.ERROR)
            return None
        version = queryset.select_related("training_run").get()
        confirmed = request.POST.get("confirmed") == "yes"
        form = PromoteForm(request.POST if confirmed else None, version=version, default_reason=ADMIN_PROMOTION_REASON)
        if confirmed and form.is_valid():
            try:
                model_version_promote(model_version=version, user=request.user, reason=form.cleaned_data["reason"])
            except GoldsiteError as exc:
                self.message_user(request, f"Promotion failed: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{version} is now the champion.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Promote to champion?",
            **promotion_review(version=version),
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "queryset": queryset,
        }
        return TemplateResponse(request, "admin/training/modelversion/promote_confirmation.html", context)


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "progress", "message", "started_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(ChampionChange)
class ChampionChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "from_version", "to_version", "actor", "reason"]
