/// The version of resnet18 (the command, the service and its API): `resnet18 --version`, `GET /v1/model`.
public enum ProductVersion {
    public static let current = "1.0.0"
}
