terraform {
  required_version = ">= 1.5"

  # Built-in resources only (terraform_data, local-exec), so init needs no registry.
  required_providers {}
}
