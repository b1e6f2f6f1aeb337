"""The administrators' forms: a new agent, an agent's roles."""

from django import forms

from moncompte.access.agents import AgentRole


def _role_choices(roles: list[AgentRole]) -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in roles]


class RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Rôles",
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": "Choisissez au moins un rôle.",
                "invalid_choice": "Vous ne pouvez pas attribuer ce rôle.",
            },
            **kwargs,
        )


class AgentCreateForm(forms.Form):
    email = forms.CharField(
        label="Adresse électronique professionnelle",
        help_text="Son identifiant de connexion, par exemple prenom.nom@caf.fr",
        max_length=254,
        error_messages={"required": "Saisissez l'adresse électronique professionnelle de l'agent."},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    first_names = forms.CharField(
        label="Prénoms",
        max_length=200,
        error_messages={"required": "Saisissez les prénoms de l'agent."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=200,
        error_messages={"required": "Saisissez le nom de l'agent."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    roles = RolesField()

    def __init__(self, *args, grantable: list[AgentRole], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(grantable)


class AgentRolesForm(forms.Form):
    roles = RolesField()

    def __init__(self, *args, grantable: list[AgentRole], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(grantable)
