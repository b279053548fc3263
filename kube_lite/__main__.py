from kube_lite.cli.main import main

if __name__ == "__main__":
    main()
