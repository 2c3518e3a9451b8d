"""12345/12319 hotline work orders: field mapping, intake, batch import, closure replies, satisfaction."""
