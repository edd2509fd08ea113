"""The ground floor every app may use: stored and uploaded files, the checks on uploads, private
media serving, the client's address and the base of refusals a user can act on. It knows no app."""
