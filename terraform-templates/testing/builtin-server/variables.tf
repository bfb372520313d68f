variable "name" {
  description = "Name of the pretend server."
  type        = string
}

variable "ipv4" {
  description = "Address reported in the ipv4 output."
  type        = string
  default     = "127.0.0.1"
}

variable "fail" {
  description = "Make the create provisioner exit non-zero, to exercise failed applies."
  type        = bool
  default     = false
}

variable "echo_text" {
  description = "Text the create provisioner prints, to exercise log streaming and redaction."
  type        = string
  default     = ""
}
