"""The form of the invitation request (moncompte.web.invitation_request.views)."""

from moncompte.web.invitations.forms import InvitationIdentityForm


class InvitationRequestForm(InvitationIdentityForm):
    """The member's NIR and birth date: the very fields (and checks) of the invitation's identity
    proof, which the member types again once invited; no invitation code yet."""

    code = None
