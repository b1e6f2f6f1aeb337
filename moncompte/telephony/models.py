"""The telephony platform's clients, the phone codes and the phone authentications (issue 12)."""
